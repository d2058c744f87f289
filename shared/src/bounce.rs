//! (placeholder)
use crate::record::MailRecord;
/// Reason code.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ReasonCode {
    /// x
    Undetermined,
}
impl ReasonCode {
    /// name
    pub fn as_str(self) -> &'static str {
        "undetermined"
    }
}
/// Why a mail event failed (None for Send, Delivery, Open, Click, Subscription).
pub fn reason_for(record: &MailRecord) -> Option<ReasonCode> {
    let _ = record;
    None
}
