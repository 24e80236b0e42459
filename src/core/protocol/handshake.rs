//! STUB: replaced by the protocol work.
