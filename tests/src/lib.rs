//! logdesk-e2e (being written)
