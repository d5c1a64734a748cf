//! Interoperability with the tools agencies already run: STIX 2.1 objects
//! (served over TAXII 2.1 by `api::taxii`), the MISP feed, and CSV.

pub mod csv;
pub mod misp;
pub mod stix;
