//! Error helpers shared by every stage.

/// An error and its sources on one line, `outer: inner: innermost` (for summaries and logs
/// that keep errors as text).
pub fn error_chain(e: &(dyn std::error::Error + 'static)) -> String {
    let mut s = e.to_string();
    let mut next = e.source();
    while let Some(cause) = next {
        let text = cause.to_string();
        // some errors repeat their source in their own message
        if !s.ends_with(&text) {
            s.push_str(": ");
            s.push_str(&text);
        }
        next = cause.source();
    }
    s
}
