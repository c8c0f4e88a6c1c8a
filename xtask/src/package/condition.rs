//! `if:` conditions of pipeline steps and subpackages, after substitution: `a == 'b'`,
//! `a != 'b'`, joined with `&&` or `||` (no parentheses), or a bare `true`/`false`.

/// Error for a condition that is not of the supported form.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error(
    "invalid condition `{0}`: expected `A == B` or `A != B`, joined with `&&` or `||`, or `true`/`false`"
)]
pub struct InvalidCondition(pub String);

/// Evaluates a substituted condition. `&&` binds tighter than `||`, as in shell and Go.
pub fn evaluate(condition: &str) -> Result<bool, InvalidCondition> {
    let mut any = false;
    for alternative in condition.split("||") {
        let mut all = true;
        for term in alternative.split("&&") {
            all &= evaluate_term(term).ok_or_else(|| InvalidCondition(condition.to_string()))?;
        }
        any |= all;
    }
    Ok(any)
}

fn evaluate_term(term: &str) -> Option<bool> {
    let term = term.trim();
    if let Some((left, right)) = term.split_once("!=") {
        return Some(operand(left)? != operand(right)?);
    }
    if let Some((left, right)) = term.split_once("==") {
        return Some(operand(left)? == operand(right)?);
    }
    match unquote(term)? {
        "true" => Some(true),
        "false" => Some(false),
        _ => None,
    }
}

fn operand(text: &str) -> Option<&str> {
    let text = text.trim();
    if text.is_empty() || text.contains("==") || text.contains("!=") {
        return None;
    }
    unquote(text)
}

fn unquote(text: &str) -> Option<&str> {
    for quote in ['\'', '"'] {
        if let Some(inner) = text.strip_prefix(quote) {
            return inner.strip_suffix(quote);
        }
    }
    Some(text)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn condition_table() {
        let cases = [
            ("x86_64 == 'x86_64'", true),
            ("aarch64 == 'x86_64'", false),
            ("aarch64 != 'x86_64'", true),
            ("'a' == \"a\"", true),
            ("a == 'b' || c == 'c'", true),
            ("a == 'a' && c == 'd'", false),
            ("true", true),
            ("false", false),
        ];
        for (condition, expected) in cases {
            assert_eq!(evaluate(condition), Ok(expected), "{condition}");
        }
    }

    #[test]
    fn condition_invalid_forms() {
        for condition in ["", "x86_64", "a == ", "a = b", "'open == b"] {
            assert!(evaluate(condition).is_err(), "{condition:?} was accepted");
        }
    }
}
