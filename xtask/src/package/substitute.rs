//! `${{name}}` substitutions in recipe text: package fields, target directories,
//! `vars`, pipeline inputs and the build architecture.

use std::collections::BTreeMap;

/// Errors from substituting variables into text.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SubstituteError {
    /// The text names a variable that has no value here.
    #[error("substitution `${{{{{name}}}}}` has no value{}", known_hint(.known))]
    Missing {
        /// The variable name, such as `vars.mangled-version`.
        name: String,
        /// Variables with the same prefix that do have a value.
        known: Vec<String>,
    },
    /// A `${{` has no closing `}}`.
    #[error("unclosed substitution: `${{{{` without `}}}}` in `{text}`")]
    Unclosed {
        /// The text from the opening `${{`.
        text: String,
    },
}

fn known_hint(known: &[String]) -> String {
    if known.is_empty() {
        String::new()
    } else {
        format!("; known with the same prefix: {}", known.join(", "))
    }
}

/// Variable values by name (`package.version`, `targets.destdir`, `vars.x`).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Variables {
    values: BTreeMap<String, String>,
}

impl Variables {
    /// Creates an empty set.
    pub fn new() -> Self {
        Self::default()
    }

    /// Sets `name` to `value`, replacing an earlier value.
    pub fn set(&mut self, name: impl Into<String>, value: impl Into<String>) {
        self.values.insert(name.into(), value.into());
    }

    /// Returns the value of `name`.
    pub fn get(&self, name: &str) -> Option<&str> {
        self.values.get(name).map(String::as_str)
    }

    /// Replaces every `${{ name }}` in `text` with its value. Spaces inside the braces
    /// are ignored, as melange ignores them.
    pub fn substitute(&self, text: &str) -> Result<String, SubstituteError> {
        let mut output = String::with_capacity(text.len());
        let mut rest = text;
        while let Some(start) = rest.find("${{") {
            output.push_str(&rest[..start]);
            let after = &rest[start + 3..];
            let Some(end) = after.find("}}") else {
                return Err(SubstituteError::Unclosed {
                    text: rest[start..].chars().take(60).collect(),
                });
            };
            let name = after[..end].trim();
            match self.values.get(name) {
                Some(value) => output.push_str(value),
                None => return Err(self.missing(name)),
            }
            rest = &after[end + 2..];
        }
        output.push_str(rest);
        Ok(output)
    }

    fn missing(&self, name: &str) -> SubstituteError {
        let prefix = match name.split_once('.') {
            Some((prefix, _)) => format!("{prefix}."),
            None => name.to_string(),
        };
        let known = self
            .values
            .keys()
            .filter(|key| key.starts_with(&prefix))
            .map(|key| format!("`{key}`"))
            .collect();
        SubstituteError::Missing {
            name: name.to_string(),
            known,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn variables() -> Variables {
        let mut variables = Variables::new();
        variables.set("package.version", "1.22.1");
        variables.set("targets.destdir", "/home/build/melange-out/nginx");
        variables
    }

    #[test]
    fn substitute_replaces_with_and_without_spaces() {
        let text = "v${{package.version}} to ${{ targets.destdir }}/usr";
        let output = variables().substitute(text);
        assert_eq!(
            output.as_deref(),
            Ok("v1.22.1 to /home/build/melange-out/nginx/usr")
        );
    }

    #[test]
    fn substitute_leaves_shell_variables() {
        let text = "echo ${HOME} $PATH ${{package.version}}";
        let output = variables().substitute(text);
        assert_eq!(output.as_deref(), Ok("echo ${HOME} $PATH 1.22.1"));
    }

    #[test]
    fn substitute_missing_names_variable() {
        let error = variables()
            .substitute("${{package.epoch}}")
            .expect_err("should fail");
        let message = error.to_string();
        assert!(message.contains("`${{package.epoch}}`"), "{message}");
        assert!(message.contains("`package.version`"), "{message}");
    }

    #[test]
    fn substitute_unclosed_is_error() {
        let error = variables()
            .substitute("a ${{package.version")
            .expect_err("should fail");
        assert!(matches!(error, SubstituteError::Unclosed { .. }));
    }
}
