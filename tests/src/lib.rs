//! End-to-end tests for Kawan (see tests/tests/).
