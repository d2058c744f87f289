//! The error value every line parser returns for a line it cannot read.

/// Why a line (or record) could not be parsed. The caller counts it and keeps the input raw.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ParseError {
    /// The input was empty or only white space.
    #[error("empty line")]
    Empty,
    /// The line ended before a required field.
    #[error("line ends before field `{0}`")]
    MissingField(&'static str),
    /// A quoted field was opened and never closed.
    #[error("field `{0}` has no closing quote")]
    Unterminated(&'static str),
    /// A field's value is not of the shape the format requires.
    #[error("field `{field}` has an invalid value {value:?}")]
    InvalidField {
        /// The field's name in the source format's documentation.
        field: &'static str,
        /// The offending text (cut to 200 bytes).
        value: String,
    },
    /// The input does not match the format; the text says where.
    #[error("{0}")]
    Format(String),
}

impl ParseError {
    /// Builds [`ParseError::InvalidField`], keeping at most 200 bytes of the value.
    pub fn invalid(field: &'static str, value: &str) -> ParseError {
        let mut end = value.len().min(200);
        while !value.is_char_boundary(end) {
            end -= 1;
        }
        ParseError::InvalidField {
            field,
            value: value[..end].to_string(),
        }
    }
}
