//! Interoperability with the tools agencies already run: STIX 2.1 objects
//! (served over TAXII 2.1 by `http::taxii`), the MISP feed, CSV, and the
//! files `kawan import` reads.

pub mod csv;
pub mod import;
pub mod misp;
pub mod stix;
