//! logdesk-api (being written)
