//! `--format` for the lists (`ps`, `images`): each row is a map of Docker's
//! field names (`.ID`, `.Names`, `.Status`, …) to the text the default table
//! shows, and a Go template picks and arranges them.
//!
//! `--format 'table {{.ID}}\t{{.Names}}'` makes an aligned table with a
//! header: the same template runs once over a map of the fields' column
//! titles (`.ID` → `CONTAINER ID`), and both are split at tabs into
//! [`Table`] cells. `\t` and `\n` typed as two characters mean a tab and a
//! newline, as the docker CLI reads them.

use std::collections::BTreeMap;

use serde_json::Value;

use crate::error::Failure;
use crate::format::Table;
use crate::template::Template;

/// One row: field name → text.
pub type Row = BTreeMap<&'static str, String>;

/// A `--format` value, read.
pub enum Format {
    /// No format, or a bare `table`: the command's default table.
    Default,
    /// `table TEMPLATE`: aligned columns with a header.
    Table(Template),
    /// `TEMPLATE`: one line per row, as the template writes it.
    Raw(Template),
}

impl Format {
    /// Reads `--format`.
    pub fn parse(format: Option<&str>) -> Result<Format, Failure> {
        let Some(format) = format else {
            return Ok(Format::Default);
        };
        let text = format.replace("\\t", "\t").replace("\\n", "\n");
        let parse = |t: &str| {
            Template::parse(t).map_err(|e| Failure::usage(format!("template parsing error: {e}")))
        };
        match text.strip_prefix("table") {
            Some(rest) if rest.trim().is_empty() => Ok(Format::Default),
            Some(rest) if rest.starts_with(char::is_whitespace) => {
                Ok(Format::Table(parse(rest.trim_start())?))
            }
            _ => Ok(Format::Raw(parse(&text)?)),
        }
    }
}

fn as_value(row: &Row) -> Value {
    Value::Object(
        row.iter()
            .map(|(k, v)| (k.to_string(), Value::String(v.clone())))
            .collect(),
    )
}

/// Renders `rows` with `template`; `headers` titles the columns of a table.
pub fn render(format: &Format, headers: &Row, rows: &[Row]) -> Result<String, Failure> {
    let run = |template: &Template, row: &Row| {
        template
            .execute(&as_value(row))
            .map_err(|e| Failure::new(format!("template: {e}")))
    };
    match format {
        Format::Default => Err(Failure::new("no template to render".to_string())),
        Format::Raw(template) => {
            let mut out = String::new();
            for row in rows {
                out.push_str(&run(template, row)?);
                out.push('\n');
            }
            Ok(out)
        }
        Format::Table(template) => {
            let header = run(template, headers)?;
            let titles: Vec<&str> = header.split('\t').collect();
            let mut table = Table::new(&titles);
            for row in rows {
                table.row(
                    run(template, row)?
                        .split('\t')
                        .map(str::to_string)
                        .collect(),
                );
            }
            Ok(table.render())
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn row(pairs: &[(&'static str, &str)]) -> Row {
        pairs.iter().map(|(k, v)| (*k, v.to_string())).collect()
    }

    #[test]
    fn raw_and_table_formats() {
        let headers = row(&[("ID", "CONTAINER ID"), ("Names", "NAMES")]);
        let rows = [
            row(&[("ID", "abc"), ("Names", "web")]),
            row(&[("ID", "defdefdefdef"), ("Names", "db")]),
        ];
        let raw = Format::parse(Some("{{.Names}}: {{.ID}}")).unwrap();
        assert_eq!(
            render(&raw, &headers, &rows).unwrap(),
            "web: abc\ndb: defdefdefdef\n"
        );
        let table = Format::parse(Some("table {{.ID}}\\t{{.Names}}")).unwrap();
        assert_eq!(
            render(&table, &headers, &rows).unwrap(),
            "CONTAINER ID   NAMES\nabc            web\ndefdefdefdef   db\n"
        );
        assert!(matches!(
            Format::parse(Some("table")).unwrap(),
            Format::Default
        ));
        assert!(matches!(Format::parse(None).unwrap(), Format::Default));
        assert!(Format::parse(Some("{{.ID")).is_err());
    }
}
