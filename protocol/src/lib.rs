//! Kawan wire format and data model. Pure: no I/O.
