//! logdesk-notify (being written)
