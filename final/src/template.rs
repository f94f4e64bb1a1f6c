//! A small subset of Go's `text/template`, for `inspect -f`.
//!
//! `docker inspect -f '{{.State.Status}}'` evaluates a Go template against
//! the JSON the daemon returned. minidock does the same over a
//! `serde_json::Value`: an action `{{…}}` is a pipeline of commands, each a
//! field path (`.State.ExitCode`, `.` for the whole object), a string
//! literal, or a function applied to arguments (`json`, `upper`, `lower`,
//! `len`, `index`, `join`), and `|` passes a result on as the last argument
//! of the next command. `{{-` and `-}}` trim the white space next to the
//! action, as in Go.
//!
//! Values print the way Go's `fmt` prints what `encoding/json` decoded:
//! lists as `[a b]`, objects as `map[k:v]`, null as `<nil>`, and a missing
//! key as `<no value>`.

use serde_json::Value;

/// Why a template could not be parsed or run; the text follows Go's.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum TemplateError {
    /// The template text is malformed.
    #[error("template parsing error: template: :1: {0}")]
    Parse(String),
    /// The template is well-formed but failed on this value.
    #[error("template: :1: executing \"\" {0}")]
    Execute(String),
}

/// One piece of a parsed template.
#[derive(Debug, Clone, PartialEq)]
enum Node {
    Text(String),
    Action(Vec<Command>),
}

/// One command of a pipeline: a function with its arguments, or a single
/// operand.
#[derive(Debug, Clone, PartialEq)]
enum Command {
    Call(String, Vec<Operand>),
    Value(Operand),
}

/// An argument: a field path or a literal.
#[derive(Debug, Clone, PartialEq)]
enum Operand {
    Field(Vec<String>),
    Str(String),
    Number(serde_json::Number),
}

/// A parsed template, ready to run against many values.
#[derive(Debug, Clone, PartialEq)]
pub struct Template {
    nodes: Vec<Node>,
}

const FUNCTIONS: &[&str] = &["json", "upper", "lower", "len", "index", "join", "println"];

impl Template {
    /// Parses `text`.
    pub fn parse(text: &str) -> Result<Template, TemplateError> {
        let mut nodes = Vec::new();
        let mut rest = text;
        while let Some(start) = rest.find("{{") {
            let mut before = &rest[..start];
            let after_open = &rest[start + 2..];
            let (trim_left, after_open) = match after_open.strip_prefix("- ") {
                Some(inner) => (true, inner),
                None => (false, after_open),
            };
            if trim_left {
                before = before.trim_end();
            }
            if !before.is_empty() {
                nodes.push(Node::Text(before.to_string()));
            }
            let end = find_close(after_open)
                .ok_or_else(|| TemplateError::Parse("unclosed action".into()))?;
            let mut inside = &after_open[..end];
            let mut after_close = &after_open[end + 2..];
            if let Some(stripped) = inside.strip_suffix(" -") {
                inside = stripped;
                after_close = after_close.trim_start();
            }
            nodes.push(Node::Action(parse_pipeline(inside)?));
            rest = after_close;
        }
        if !rest.is_empty() {
            nodes.push(Node::Text(rest.to_string()));
        }
        Ok(Template { nodes })
    }

    /// Runs the template against `data`.
    pub fn execute(&self, data: &Value) -> Result<String, TemplateError> {
        let mut out = String::new();
        for node in &self.nodes {
            match node {
                Node::Text(text) => out.push_str(text),
                Node::Action(pipeline) => out.push_str(&display(&run_pipeline(pipeline, data)?)),
            }
        }
        Ok(out)
    }
}

/// The position of the `}}` that closes an action, skipping quoted text.
fn find_close(text: &str) -> Option<usize> {
    let bytes = text.as_bytes();
    let mut i = 0;
    let mut quote: Option<u8> = None;
    while i < bytes.len() {
        match (quote, bytes[i]) {
            (Some(b'"'), b'\\') => i += 1,
            (Some(q), c) if c == q => quote = None,
            (None, c @ (b'"' | b'`')) => quote = Some(c),
            (None, b'}') if bytes.get(i + 1) == Some(&b'}') => return Some(i),
            _ => {}
        }
        i += 1;
    }
    None
}

/// Splits an action into words: field paths, names, literals and `|`.
fn tokenize(text: &str) -> Result<Vec<String>, TemplateError> {
    let mut tokens = Vec::new();
    let mut chars = text.char_indices().peekable();
    while let Some(&(start, c)) = chars.peek() {
        if c.is_whitespace() {
            chars.next();
        } else if c == '|' {
            chars.next();
            tokens.push("|".to_string());
        } else if c == '"' || c == '`' {
            chars.next();
            let mut end = None;
            let mut escaped = false;
            for (i, d) in chars.by_ref() {
                if c == '"' && d == '\\' && !escaped {
                    escaped = true;
                    continue;
                }
                if d == c && !escaped {
                    end = Some(i);
                    break;
                }
                escaped = false;
            }
            let end =
                end.ok_or_else(|| TemplateError::Parse("unterminated quoted string".into()))?;
            tokens.push(text[start..=end].to_string());
        } else {
            let mut end = text.len();
            while let Some(&(i, d)) = chars.peek() {
                if d.is_whitespace() || d == '|' {
                    end = i;
                    break;
                }
                chars.next();
            }
            tokens.push(text[start..end].to_string());
        }
    }
    Ok(tokens)
}

fn parse_operand(token: &str) -> Result<Operand, TemplateError> {
    if token == "." {
        return Ok(Operand::Field(Vec::new()));
    }
    if let Some(path) = token.strip_prefix('.') {
        let parts: Vec<String> = path.split('.').map(str::to_owned).collect();
        if parts
            .iter()
            .any(|p| p.is_empty() || !p.chars().all(|c| c.is_alphanumeric() || c == '_'))
        {
            return Err(TemplateError::Parse(format!("bad field name in {token:?}")));
        }
        return Ok(Operand::Field(parts));
    }
    if token.starts_with('"') {
        return serde_json::from_str::<String>(token)
            .map(Operand::Str)
            .map_err(|e| TemplateError::Parse(format!("bad string {token}: {e}")));
    }
    if let Some(raw) = token.strip_prefix('`').and_then(|t| t.strip_suffix('`')) {
        return Ok(Operand::Str(raw.to_string()));
    }
    if let Ok(Value::Number(n)) = serde_json::from_str::<Value>(token) {
        return Ok(Operand::Number(n));
    }
    Err(TemplateError::Parse(format!(
        "function {token:?} not defined"
    )))
}

fn parse_pipeline(text: &str) -> Result<Vec<Command>, TemplateError> {
    let tokens = tokenize(text)?;
    if tokens.is_empty() {
        return Err(TemplateError::Parse("missing value for command".into()));
    }
    let mut commands = Vec::new();
    for words in tokens.split(|t| t == "|") {
        let Some((first, args)) = words.split_first() else {
            return Err(TemplateError::Parse("missing command in pipeline".into()));
        };
        if FUNCTIONS.contains(&first.as_str()) {
            let args = args
                .iter()
                .map(|a| parse_operand(a))
                .collect::<Result<_, _>>()?;
            commands.push(Command::Call(first.clone(), args));
        } else {
            if !args.is_empty() {
                return Err(TemplateError::Parse(format!(
                    "can't give argument to non-function {first}"
                )));
            }
            commands.push(Command::Value(parse_operand(first)?));
        }
    }
    Ok(commands)
}

/// A value being computed: a JSON value, or a missing key.
#[derive(Debug, Clone, PartialEq)]
enum Evaluated {
    Json(Value),
    Missing,
}

fn lookup(data: &Value, path: &[String]) -> Result<Evaluated, TemplateError> {
    let mut current = data;
    for (i, key) in path.iter().enumerate() {
        match current {
            Value::Object(map) => match map.get(key) {
                Some(v) => current = v,
                None => return Ok(Evaluated::Missing),
            },
            Value::Null => return Ok(Evaluated::Missing),
            other => {
                return Err(TemplateError::Execute(format!(
                    "at <.{}>: can't evaluate field {key} in type {}",
                    path[..=i].join("."),
                    go_type(other)
                )))
            }
        }
    }
    Ok(Evaluated::Json(current.clone()))
}

fn go_type(value: &Value) -> &'static str {
    match value {
        Value::Null => "interface {}",
        Value::Bool(_) => "bool",
        Value::Number(_) => "json.Number",
        Value::String(_) => "string",
        Value::Array(_) => "[]interface {}",
        Value::Object(_) => "map[string]interface {}",
    }
}

fn evaluate(operand: &Operand, data: &Value) -> Result<Evaluated, TemplateError> {
    match operand {
        Operand::Field(path) => lookup(data, path),
        Operand::Str(s) => Ok(Evaluated::Json(Value::String(s.clone()))),
        Operand::Number(n) => Ok(Evaluated::Json(Value::Number(n.clone()))),
    }
}

fn run_pipeline(pipeline: &[Command], data: &Value) -> Result<Evaluated, TemplateError> {
    let mut previous: Option<Evaluated> = None;
    for command in pipeline {
        let result = match command {
            Command::Value(operand) => {
                if previous.is_some() {
                    return Err(TemplateError::Execute(
                        "can't give argument to non-function".into(),
                    ));
                }
                evaluate(operand, data)?
            }
            Command::Call(name, operands) => {
                let mut args = operands
                    .iter()
                    .map(|o| evaluate(o, data))
                    .collect::<Result<Vec<_>, _>>()?;
                args.extend(previous.take());
                call(name, &args)?
            }
        };
        previous = Some(result);
    }
    Ok(previous.unwrap_or(Evaluated::Missing))
}

fn call(name: &str, args: &[Evaluated]) -> Result<Evaluated, TemplateError> {
    let wrong = |want: usize| {
        TemplateError::Execute(format!(
            "at <{name}>: wrong number of args for {name}: want {want} got {}",
            args.len()
        ))
    };
    let text = |e: &Evaluated| display(e);
    let value = |e: &Evaluated| match e {
        Evaluated::Json(v) => v.clone(),
        Evaluated::Missing => Value::Null,
    };
    let string = |s: String| Ok(Evaluated::Json(Value::String(s)));
    match (name, args) {
        ("json", [arg]) => string(go_json(&value(arg))),
        ("upper", [arg]) => string(text(arg).to_uppercase()),
        ("lower", [arg]) => string(text(arg).to_lowercase()),
        ("println", args) => string(args.iter().map(text).collect::<Vec<_>>().join(" ") + "\n"),
        ("len", [arg]) => {
            let n = match value(arg) {
                Value::Array(a) => a.len(),
                Value::Object(o) => o.len(),
                Value::String(s) => s.len(),
                other => {
                    return Err(TemplateError::Execute(format!(
                        "at <len>: error calling len: len of type {}",
                        go_type(&other)
                    )))
                }
            };
            Ok(Evaluated::Json(Value::from(n)))
        }
        ("index", [collection, keys @ ..]) if !keys.is_empty() => {
            let mut current = value(collection);
            for key in keys {
                current = match (&current, value(key)) {
                    (Value::Object(map), Value::String(k)) => match map.get(&k) {
                        Some(v) => v.clone(),
                        None => return Ok(Evaluated::Missing),
                    },
                    (Value::Array(list), Value::Number(n)) => {
                        let i = n.as_u64().unwrap_or(u64::MAX) as usize;
                        list.get(i).cloned().ok_or_else(|| {
                            TemplateError::Execute(format!(
                                "at <index>: error calling index: index out of range: {n}"
                            ))
                        })?
                    }
                    (other, _) => {
                        return Err(TemplateError::Execute(format!(
                            "at <index>: error calling index: cannot index {}",
                            go_type(other)
                        )))
                    }
                };
            }
            Ok(Evaluated::Json(current))
        }
        ("join", [list, separator]) => match value(list) {
            Value::Array(items) => string(
                items
                    .iter()
                    .map(|v| display(&Evaluated::Json(v.clone())))
                    .collect::<Vec<_>>()
                    .join(&text(separator)),
            ),
            other => Err(TemplateError::Execute(format!(
                "at <join>: wrong type for value; expected []string; got {}",
                go_type(&other)
            ))),
        },
        ("json" | "upper" | "lower" | "len", _) => Err(wrong(1)),
        ("join", _) => Err(wrong(2)),
        _ => Err(TemplateError::Execute(format!("at <{name}>: bad call"))),
    }
}

/// `encoding/json`'s output: compact, with `<`, `>` and `&` escaped the way
/// Go escapes them for HTML safety.
fn go_json(value: &Value) -> String {
    serde_json::to_string(value)
        .expect("a Value always serialises")
        .replace('<', "\\u003c")
        .replace('>', "\\u003e")
        .replace('&', "\\u0026")
}

/// How Go's `fmt` prints a decoded JSON value.
fn display(value: &Evaluated) -> String {
    fn go(value: &Value) -> String {
        match value {
            Value::Null => "<nil>".to_string(),
            Value::Bool(b) => b.to_string(),
            Value::Number(n) => n.to_string(),
            Value::String(s) => s.clone(),
            Value::Array(items) => {
                format!("[{}]", items.iter().map(go).collect::<Vec<_>>().join(" "))
            }
            Value::Object(map) => {
                let mut keys: Vec<&String> = map.keys().collect();
                keys.sort();
                let parts: Vec<String> = keys
                    .iter()
                    .map(|k| format!("{k}:{}", go(&map[*k])))
                    .collect();
                format!("map[{}]", parts.join(" "))
            }
        }
    }
    match value {
        Evaluated::Json(v) => go(v),
        Evaluated::Missing => "<no value>".to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn run(template: &str, data: &Value) -> String {
        Template::parse(template)
            .unwrap_or_else(|e| panic!("{template}: {e}"))
            .execute(data)
            .unwrap_or_else(|e| panic!("{template}: {e}"))
    }

    fn container() -> Value {
        json!({
            "Id": "4f1c0ffee",
            "Name": "/web",
            "State": {"Status": "exited", "ExitCode": 3, "Running": false},
            "Config": {"Cmd": ["sh", "-c", "exit 3"], "Env": ["A=<b>"], "Labels": {"z": "1", "a": "2"}, "Tty": false},
            "HostConfig": {"Memory": 536870912, "Binds": null},
        })
    }

    #[test]
    fn fields_print_like_go() {
        let c = container();
        assert_eq!(run("{{.State.Status}}", &c), "exited");
        assert_eq!(run("{{.Id}}", &c), "4f1c0ffee");
        assert_eq!(run("{{.State.ExitCode}}", &c), "3");
        assert_eq!(run("{{.HostConfig.Memory}}", &c), "536870912");
        assert_eq!(run("{{.Config.Cmd}}", &c), "[sh -c exit 3]");
        assert_eq!(run("{{.Config.Labels}}", &c), "map[a:2 z:1]");
        assert_eq!(run("{{.HostConfig.Binds}}", &c), "<nil>");
        assert_eq!(run("{{.Nope}}", &c), "<no value>");
        assert_eq!(run("{{.State.Running}}", &c), "false");
        assert_eq!(
            run("id={{.Id}} status={{.State.Status}}\n", &c),
            "id=4f1c0ffee status=exited\n"
        );
    }

    #[test]
    fn functions_and_pipes() {
        let c = container();
        let json_config = run("{{json .Config}}", &c);
        let back: Value = serde_json::from_str(&json_config).unwrap();
        assert_eq!(back, c["Config"]);
        assert!(json_config.contains("A=\\u003cb\\u003e"), "{json_config}");
        assert_eq!(run("{{.State.Status | upper}}", &c), "EXITED");
        assert_eq!(run("{{upper .Name}}", &c), "/WEB");
        assert_eq!(run("{{len .Config.Cmd}}", &c), "3");
        assert_eq!(run("{{index .Config.Labels \"z\"}}", &c), "1");
        assert_eq!(run("{{index .Config.Cmd 2}}", &c), "exit 3");
        assert_eq!(run("{{join .Config.Cmd \",\"}}", &c), "sh,-c,exit 3");
        assert_eq!(
            run("{{json .}}", &json!({"a": [1, null]})),
            r#"{"a":[1,null]}"#
        );
        assert_eq!(run("a {{- .Id -}} b", &c), "a4f1c0ffeeb");
        assert_eq!(run("{{\"}}\"}}", &c), "}}");
    }

    #[test]
    fn errors_read_like_go() {
        assert!(matches!(
            Template::parse("{{.State"),
            Err(TemplateError::Parse(_))
        ));
        assert!(matches!(
            Template::parse("{{nosuch .Id}}"),
            Err(TemplateError::Parse(_))
        ));
        assert!(matches!(
            Template::parse("{{}}"),
            Err(TemplateError::Parse(_))
        ));
        let err = Template::parse("{{.Id.Foo}}")
            .unwrap()
            .execute(&container())
            .unwrap_err();
        assert!(
            err.to_string().contains("can't evaluate field Foo"),
            "{err}"
        );
        let err = Template::parse("{{json}}")
            .unwrap()
            .execute(&container())
            .unwrap_err();
        assert!(err.to_string().contains("wrong number of args"), "{err}");
    }
}
