//! logdesk-ingest (being written)
