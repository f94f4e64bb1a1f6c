//! The book shows each exercise as the learner sees it, never its answer in plain sight.
//!
//! The book includes the chapters' reference code (`{{#include …:anchor}}`), and so, left
//! alone, it would print every exercise's solution next to the text that sets it. This module
//! is an mdBook preprocessor that runs after mdBook's `links` preprocessor (the one that
//! expands the includes): in every fenced code block of every page it finds the exercise
//! regions (`// exercise N.M name: …` … `// end exercise`) with the same parser `start` uses,
//! turns each into what `start` writes ([`exercise::start_blocks`]: the header, the `SAFETY:`
//! obligations and a `todo!()`; the hints are left to `cargo workbook hint`), and puts
//! the reference body after the listing, inside a `<details>` reveal that mdBook's highlighter
//! still colours. There is one copy of the rule: what the book shows is what `start` makes.
//!
//! [`leaks`] is the other side, used on the rendered HTML: it finds exercise bodies that can be
//! read outside a reveal, so CI can prove the book prints no answer.
//!
//! mdBook's preprocessor protocol (0.4): `COMMAND supports RENDERER` must exit 0 when the
//! renderer is supported; `COMMAND` alone reads `[context, book]` as JSON on stdin and writes
//! the book back as JSON on stdout. The book is walked as plain JSON, so every field this
//! module does not know passes through untouched.

use std::path::Path;

use anyhow::{bail, Context, Result};
use serde_json::Value;

use crate::exercise::{self, Exercise};

/// The class of the reveal that holds a reference body; [`leaks`] looks only outside these.
pub const REVEAL_CLASS: &str = "workbook-reference";

/// The class of the `<script type="text/plain">` inside a reveal that holds the body.
pub const REVEAL_CODE_CLASS: &str = "workbook-reference-code";

/// A fenced code block of a Markdown page: where it is and how it is fenced.
struct Fence {
    /// Index of the opening fence line.
    open: usize,
    /// Index of the closing fence line (the page's last line + 1 when it is never closed).
    close: usize,
    /// The whitespace before the opening fence: a listing inside a list item is indented.
    indent: String,
    /// The info string after the fence ("rust,ignore").
    info: String,
}

/// Finds the fenced code blocks of a Markdown text, given as lines.
fn fences(lines: &[&str]) -> Vec<Fence> {
    let mut found = Vec::new();
    let mut i = 0;
    while i < lines.len() {
        let line = lines[i];
        let trimmed = line.trim_start();
        let indent = &line[..line.len() - trimmed.len()];
        let fence_char = trimmed.chars().next();
        if indent.len() <= 3 || indent.chars().all(|c| c == ' ') {
            if let Some(c @ ('`' | '~')) = fence_char {
                let count = trimmed.chars().take_while(|&x| x == c).count();
                let info = trimmed[count..].trim();
                // A backtick fence's info string cannot hold a backtick (that is inline code).
                if count >= 3 && !(c == '`' && info.contains('`')) {
                    let close = (i + 1..lines.len())
                        .find(|&j| {
                            let t = lines[j].trim();
                            t.len() >= count && t.chars().all(|x| x == c)
                        })
                        .unwrap_or(lines.len());
                    found.push(Fence {
                        open: i,
                        close,
                        indent: indent.to_string(),
                        info: info.to_string(),
                    });
                    i = close + 1;
                    continue;
                }
            }
        }
        i += 1;
    }
    found
}

/// The body without the indentation its lines share, and without blank lines at either end.
fn dedent(body: &str) -> String {
    let lines: Vec<&str> = body.lines().map(str::trim_end).collect();
    let common = lines
        .iter()
        .filter(|l| !l.is_empty())
        .map(|l| l.len() - l.trim_start().len())
        .min()
        .unwrap_or(0);
    let text: Vec<&str> = lines
        .iter()
        .map(|l| if l.len() >= common { &l[common..] } else { "" })
        .collect();
    text.join("\n").trim_matches('\n').to_string()
}

/// The reveal put after a listing for one of its exercises: a `<details>` block holding the
/// reference body as plain text inside `<script type="text/plain">`. Text there is no page
/// text: mdBook's search index drops the content of `<script>` (it would otherwise offer the
/// answer in a search result's teaser), and `book/workbook-reveal.js` shows it, highlighted
/// as a listing of the same language, when the reader opens the reveal.
fn reveal(exercise: &Exercise, fence: &Fence) -> Result<Vec<String>> {
    let id = &exercise.id;
    let body = dedent(&exercise.body);
    if body.to_ascii_lowercase().contains("</script") {
        bail!(
            "{}:{}: exercise {id} holds `</script`, which would end its reveal early",
            exercise.file.display(),
            exercise.header_line
        );
    }
    let lang = fence
        .info
        .split([',', ' '])
        .next()
        .filter(|l| !l.is_empty())
        .unwrap_or("text");
    let mut out = vec![
        String::new(),
        format!("<details class=\"{REVEAL_CLASS}\" id=\"ref-{}\">", id.key()),
        format!(
            "<summary>Reference solution of exercise {id} (stuck? <code>cargo workbook hint {}</code> first)</summary>",
            id.key()
        ),
        String::new(),
        format!("<script type=\"text/plain\" class=\"{REVEAL_CODE_CLASS}\" data-lang=\"{lang}\">"),
    ];
    out.extend(body.lines().map(str::to_string));
    out.push("</script>".to_string());
    out.push(String::new());
    out.push("</details>".to_string());
    out.push(String::new());
    // Inside a list item the whole block keeps the item's indentation (Markdown takes it off
    // again, the script's text included).
    Ok(out
        .into_iter()
        .map(|l| {
            if l.is_empty() {
                l
            } else {
                format!("{}{l}", fence.indent)
            }
        })
        .collect())
}

/// Renders one page: every exercise in a listing becomes its `todo!()`, the reference follows
/// the listing behind a reveal. `page` names the page in errors. A listing that holds half an
/// exercise (an anchor that cuts through one) is an error: the half could give the answer away.
pub fn render_page(markdown: &str, page: &str) -> Result<String> {
    let lines: Vec<&str> = markdown.split('\n').collect();
    let fences = fences(&lines);
    if fences.is_empty() {
        return Ok(markdown.to_string());
    }
    let mut out: Vec<String> = Vec::with_capacity(lines.len());
    let mut next = 0;
    for fence in &fences {
        let content_end = fence.close.min(lines.len());
        let block = lines[fence.open + 1..content_end].join("\n") + "\n";
        let listing = format!("{page}, the listing at line {}", fence.open + 1);
        let exercises = exercise::parse(Path::new(&listing), &block).with_context(|| {
            format!(
                "{page}: a listing holds part of an exercise: include the whole region from \
                 `// exercise` to `// end exercise`, or none of it"
            )
        })?;
        if exercises.is_empty() {
            continue;
        }
        if fence.close >= lines.len() {
            bail!("{listing}: the code block is never closed");
        }
        out.extend(lines[next..=fence.open].iter().map(|l| l.to_string()));
        let started: Vec<&Exercise> = exercises.iter().collect();
        let learner = exercise::start_blocks(&block, &started);
        out.extend(
            learner
                .strip_suffix('\n')
                .unwrap_or(&learner)
                .split('\n')
                .map(str::to_string),
        );
        out.push(lines[fence.close].to_string());
        for e in &exercises {
            out.extend(reveal(e, fence)?);
        }
        next = fence.close + 1;
    }
    out.extend(lines[next..].iter().map(|l| l.to_string()));
    Ok(out.join("\n"))
}

/// Renders every chapter of an mdBook `Book` (as JSON), recursing into sub-chapters.
fn render_items(items: &mut [Value]) -> Result<()> {
    for item in items {
        let Some(chapter) = item.get_mut("Chapter").and_then(Value::as_object_mut) else {
            continue; // a separator or a part title
        };
        let page = chapter
            .get("source_path")
            .or_else(|| chapter.get("path"))
            .and_then(Value::as_str)
            .or_else(|| chapter.get("name").and_then(Value::as_str))
            .unwrap_or("a page")
            .to_string();
        if let Some(Value::String(content)) = chapter.get_mut("content") {
            *content = crate::tryit::render(&render_page(content, &page)?);
        }
        if let Some(Value::Array(sub)) = chapter.get_mut("sub_items") {
            render_items(sub)?;
        }
    }
    Ok(())
}

/// The preprocessor proper: `[context, book]` in, the rendered book out (both JSON).
pub fn preprocess(input: &str) -> Result<String> {
    let value: Value = serde_json::from_str(input)
        .context("mdBook's input is not JSON: this command is run by `mdbook build`")?;
    let Value::Array(mut pair) = value else {
        bail!("mdBook's input is not the pair [context, book]");
    };
    if pair.len() != 2 {
        bail!("mdBook's input is not the pair [context, book]");
    }
    let mut book = pair.pop().expect("two elements");
    let sections = book
        .get_mut("sections")
        .and_then(Value::as_array_mut)
        .context("mdBook's book has no `sections`: is this mdBook 0.4?")?;
    render_items(sections)?;
    Ok(serde_json::to_string(&book)?)
}

/// An exercise whose reference body can be read on a rendered page outside a reveal.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Leak {
    pub page: String,
    pub exercise: String,
}

/// Removes every `<details class="workbook-reference" …>…</details>` from `html`.
fn without_reveals(html: &str) -> String {
    let open = format!("<details class=\"{REVEAL_CLASS}\"");
    let mut out = String::with_capacity(html.len());
    let mut rest = html;
    while let Some(at) = rest.find(&open) {
        out.push_str(&rest[..at]);
        match rest[at..].find("</details>") {
            Some(end) => rest = &rest[at + end + "</details>".len()..],
            None => {
                rest = "";
            }
        }
    }
    out.push_str(rest);
    out
}

/// Undoes the HTML escaping of text in a code element (and drops the highlighter's tags).
fn code_text(html: &str) -> String {
    let mut text = String::with_capacity(html.len());
    let mut in_tag = false;
    for c in html.chars() {
        match c {
            '<' => in_tag = true,
            '>' if in_tag => in_tag = false,
            c if !in_tag => text.push(c),
            _ => {}
        }
    }
    text.replace("&lt;", "<")
        .replace("&gt;", ">")
        .replace("&quot;", "\"")
        .replace("&#39;", "'")
        .replace("&#x27;", "'")
        .replace("&amp;", "&")
}

/// The non-blank lines of a text, trimmed.
fn significant_lines(text: &str) -> Vec<String> {
    text.lines()
        .map(str::trim)
        .filter(|l| !l.is_empty())
        .map(str::to_string)
        .collect()
}

/// The exercises whose reference body appears, whole and in order, in a code element of
/// `html` outside the reveals. `page` names the page in the result.
pub fn leaks(page: &str, html: &str, exercises: &[Exercise]) -> Vec<Leak> {
    let visible = without_reveals(html);
    let mut listings: Vec<Vec<String>> = Vec::new();
    let mut rest = visible.as_str();
    while let Some(at) = rest.find("<code") {
        let after = &rest[at..];
        let Some(start) = after.find('>') else { break };
        let Some(end) = after.find("</code>") else {
            break;
        };
        if start < end {
            listings.push(significant_lines(&code_text(&after[start + 1..end])));
        }
        rest = &after[end + "</code>".len()..];
    }
    leaks_in(page, &listings, exercises)
}

/// The exercises whose reference body appears, whole and in order, in one of `texts` (each
/// given as its significant lines).
fn leaks_in(page: &str, texts: &[Vec<String>], exercises: &[Exercise]) -> Vec<Leak> {
    exercises
        .iter()
        // A todo!() body gives nothing away (and is exactly what the listing shows).
        .filter(|e| !e.is_todo())
        .filter(|e| {
            let body = significant_lines(&e.body);
            !body.is_empty()
                && texts
                    .iter()
                    .any(|text| text.windows(body.len()).any(|w| w == body.as_slice()))
        })
        .map(|e| Leak {
            page: page.to_string(),
            exercise: e.id.to_string(),
        })
        .collect()
}

/// The JSON of mdBook's search index: `searchindex.json` is JSON already; `searchindex.js`
/// wraps it as `JSON.parse('…')`, a JavaScript string in which `\\` and `\'` are escaped.
fn search_index_json(index: &str) -> String {
    const OPEN: &str = "JSON.parse('";
    let Some(at) = index.find(OPEN) else {
        return index.to_string();
    };
    let quoted = &index[at + OPEN.len()..];
    let quoted = &quoted[..quoted.rfind("')").unwrap_or(quoted.len())];
    let mut json = String::with_capacity(quoted.len());
    let mut chars = quoted.chars();
    while let Some(c) = chars.next() {
        if c == '\\' {
            json.extend(chars.next());
        } else {
            json.push(c);
        }
    }
    json
}

/// The exercises whose reference body a search can find: mdBook's search index
/// (`searchindex.js`, or `searchindex.json`) holds each section's text, and a search result
/// shows a teaser of it, so a body in the index is an answer outside a reveal. `page` names
/// the file in the result.
pub fn search_index_leaks(page: &str, index: &str, exercises: &[Exercise]) -> Result<Vec<Leak>> {
    let json = search_index_json(index);
    let (Some(start), Some(end)) = (json.find('{'), json.rfind('}')) else {
        bail!("{page}: no JSON object in mdBook's search index");
    };
    let value: Value = serde_json::from_str(&json[start..=end])
        .with_context(|| format!("{page}: mdBook's search index is not the JSON expected"))?;
    // The index folds a listing's line breaks into spaces (most of them): compare with all
    // whitespace folded.
    let fold = |text: &str| text.split_whitespace().collect::<Vec<_>>().join(" ");
    let mut texts = Vec::new();
    let mut stack = vec![&value];
    while let Some(v) = stack.pop() {
        match v {
            Value::String(text) => texts.push(fold(text)),
            Value::Array(items) => stack.extend(items),
            Value::Object(map) => stack.extend(map.values()),
            _ => {}
        }
    }
    Ok(exercises
        .iter()
        .filter(|e| !e.is_todo())
        .filter(|e| {
            let body = fold(&e.body);
            !body.is_empty() && texts.iter().any(|text| text.contains(&body))
        })
        .map(|e| Leak {
            page: page.to_string(),
            exercise: e.id.to_string(),
        })
        .collect())
}

#[cfg(test)]
mod tests {
    use super::*;

    const PAGE: &str = "# Namespaces

Some text.

```rust
pub fn set_hostname(name: &str) -> Result<(), Error> {
    // exercise 1.6 set-hostname: give the new UTS namespace its own hostname.
    // hint: the UTS namespace holds two names.
    nix::unistd::sethostname(name)?;
    Ok(())
    // end exercise
}
```

More text, and a listing without exercises:

```rust
fn untouched() {}
```

1. In a list:

   ```rust,ignore
   fn f() -> u8 {
       // exercise 1.7 listed: return seven.
       7
       // end exercise
   }
   ```
";

    #[test]
    fn a_listing_shows_the_todo_and_hides_the_reference_behind_a_reveal() {
        let out = render_page(PAGE, "01-namespaces.md").unwrap();
        // As `start` leaves it: the hints are `cargo workbook hint`'s, one at a time.
        assert!(!out.contains("the UTS namespace holds two names"), "{out}");
        let learner = "    // exercise 1.6 set-hostname: give the new UTS namespace its own hostname.\n    \
                       todo!(\"exercise 1.6 set-hostname: give the new UTS namespace its own hostname.\")\n    \
                       // end exercise\n}\n```\n";
        assert!(out.contains(learner), "{out}");
        let reveal = "```\n\n<details class=\"workbook-reference\" id=\"ref-1.6\">\n<summary>Reference solution of exercise 1.6 set-hostname (stuck? <code>cargo workbook hint 1.6</code> first)</summary>\n\n<script type=\"text/plain\" class=\"workbook-reference-code\" data-lang=\"rust\">\nnix::unistd::sethostname(name)?;\nOk(())\n</script>\n\n</details>\n";
        assert!(out.contains(reveal), "{out}");
        assert!(out.contains("```rust\nfn untouched() {}\n```"), "{out}");
        // The reveal of a listing inside a list item keeps the item's indentation.
        assert!(
            out.contains("   ```\n\n   <details class=\"workbook-reference\" id=\"ref-1.7\">"),
            "{out}"
        );
        assert!(
            out.contains("   <script type=\"text/plain\" class=\"workbook-reference-code\" data-lang=\"rust\">\n   7\n   </script>\n"),
            "{out}"
        );
        assert!(out.contains("       todo!(\"exercise 1.7 listed: return seven.\")"));
        // Everything outside the listings is as it was.
        assert!(out.starts_with("# Namespaces\n\nSome text.\n\n```rust\n"));
        assert!(out.ends_with("   }\n   ```\n\n   <details class=\"workbook-reference\" id=\"ref-1.7\">\n   <summary>Reference solution of exercise 1.7 listed (stuck? <code>cargo workbook hint 1.7</code> first)</summary>\n\n   <script type=\"text/plain\" class=\"workbook-reference-code\" data-lang=\"rust\">\n   7\n   </script>\n\n   </details>\n\n"), "{out:?}");
    }

    #[test]
    fn a_page_without_exercises_is_unchanged() {
        let page = "# Title\n\n```sh\n$ echo hi\n```\n\ntext\n";
        assert_eq!(render_page(page, "p.md").unwrap(), page);
    }

    #[test]
    fn a_listing_with_half_an_exercise_is_an_error() {
        let page = "```rust\nfn f() {\n    // exercise 1.1 a: t\n    1\n}\n```\n";
        let err = format!("{:#}", render_page(page, "01-x.md").unwrap_err());
        assert!(
            err.contains("01-x.md: a listing holds part of an exercise"),
            "{err}"
        );
        assert!(err.contains("exercise 1.1 a is not closed"), "{err}");
    }

    #[test]
    fn the_preprocessor_renders_every_chapter_and_keeps_everything_else() {
        let input = serde_json::json!([
            {"root": "/book", "config": {}, "renderer": "html", "mdbook_version": "0.4.40"},
            {"sections": [
                {"Chapter": {"name": "Intro", "content": "# Intro\n", "number": null,
                             "sub_items": [], "path": "introduction.md",
                             "source_path": "introduction.md", "parent_names": []}},
                "Separator",
                {"PartTitle": "Part"},
                {"Chapter": {"name": "One", "content": "x", "number": [1],
                             "sub_items": [{"Chapter": {"name": "Sub", "content": PAGE,
                                 "number": [1, 1], "sub_items": [], "path": "sub.md",
                                 "source_path": "sub.md", "parent_names": ["One"]}}],
                             "path": "01.md", "source_path": "01.md", "parent_names": []}}
            ], "__non_exhaustive": null}
        ]);
        let out: Value = serde_json::from_str(&preprocess(&input.to_string()).unwrap()).unwrap();
        let sections = out["sections"].as_array().unwrap();
        assert_eq!(sections.len(), 4);
        assert_eq!(sections[0]["Chapter"]["content"], "# Intro\n");
        assert_eq!(sections[1], "Separator");
        assert_eq!(sections[2]["PartTitle"], "Part");
        let sub = &sections[3]["Chapter"]["sub_items"][0]["Chapter"];
        assert_eq!(sub["number"], serde_json::json!([1, 1]));
        let content = sub["content"].as_str().unwrap();
        assert!(
            content.contains("todo!(\"exercise 1.6 set-hostname"),
            "{content}"
        );
        assert!(out.get("__non_exhaustive").is_some());
    }

    fn sample_exercises() -> Vec<Exercise> {
        let start = PAGE.find("pub fn").unwrap();
        let end = PAGE.find("```\n\nMore").unwrap();
        exercise::parse(Path::new("src/lib.rs"), &PAGE[start..end]).unwrap()
    }

    #[test]
    fn a_reference_body_in_a_listing_is_a_leak_and_in_a_reveal_is_not() {
        let exercises = sample_exercises();
        let leaked =
            "<pre><code class=\"language-rust\">pub fn set_hostname(name: &amp;str) {\n    \
                      <span class=\"hljs-comment\">// exercise 1.6</span>\n    \
                      nix::unistd::sethostname(name)?;\n    Ok(())\n}</code></pre>";
        assert_eq!(
            leaks("ch1.html", leaked, &exercises),
            vec![Leak {
                page: "ch1.html".into(),
                exercise: "1.6 set-hostname".into()
            }]
        );
        let hidden = format!(
            "<pre><code>todo!()</code></pre><details class=\"{REVEAL_CLASS}\" id=\"ref-1.6\"><summary>x</summary>{leaked}</details>"
        );
        assert!(leaks("ch1.html", &hidden, &exercises).is_empty());
        // Part of a body is not the body.
        let part = "<code>nix::unistd::sethostname(name)?;</code>";
        assert!(leaks("ch1.html", part, &exercises).is_empty());
    }

    #[test]
    fn a_reference_body_in_the_search_index_is_a_leak() {
        let exercises = sample_exercises();
        // As mdBook 0.4 writes it: JSON inside a JavaScript string, `\\` and `'` escaped.
        let index = r#"window.search = Object.assign(window.search, JSON.parse('{"doc_urls":["ch1.html#x"],"index":{"documentStore":{"docs":{"0":{"body":"Some text, it\'s here. pub fn set_hostname(name: &str) {\\n    // exercise 1.6\\n    nix::unistd::sethostname(name)?;\\n    Ok(())\\n}","id":"0"}}}}}'));"#;
        assert_eq!(
            search_index_leaks("searchindex.js", index, &exercises).unwrap(),
            vec![Leak {
                page: "searchindex.js".into(),
                exercise: "1.6 set-hostname".into()
            }]
        );
        let clean = index.replace("nix::unistd::sethostname(name)?;", "todo!()");
        assert!(search_index_leaks("searchindex.js", &clean, &exercises)
            .unwrap()
            .is_empty());
        let err =
            search_index_leaks("searchindex.js", "window.search = 1;", &exercises).unwrap_err();
        assert!(err.to_string().contains("no JSON object"), "{err}");
        // Part of a body is not the body.
        let part = "<code>nix::unistd::sethostname(name)?;</code>";
        assert!(leaks("ch1.html", part, &exercises).is_empty());
    }
}
