//! Wikipedia articles from a MediaWiki XML dump (gensim's shortened 2016
//! excerpt): main-namespace pages that are not redirects, with their wiki
//! markup reduced to plain prose.
//!
//! The stripping is a reasonable approximation, not a MediaWiki parser:
//! comments, `<ref>`s, templates `{{…}}` and tables `{|…|}` are removed;
//! `[[target|label]]` becomes `label`, `[[target]]` becomes `target`, and
//! file, image, category and interlanguage links are removed; `[url label]`
//! becomes `label`; other HTML tags, bold/italic quotes, heading `=`s and
//! list markers are dropped; common HTML entities are decoded.

/// One article: its title and plain text.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct WikiArticle {
    /// The page title.
    pub title: String,
    /// The article text without markup.
    pub text: String,
}

/// The articles of a dump, in file order.
pub fn articles(xml: &str) -> Vec<WikiArticle> {
    let mut out = Vec::new();
    for page in xml.split("<page>").skip(1) {
        let page = page.split("</page>").next().unwrap_or(page);
        if page.contains("<redirect") || element(page, "ns").map(str::trim) != Some("0") {
            continue;
        }
        let title = element(page, "title").map(unescape_xml).unwrap_or_default();
        let Some(start) = page.find("<text") else {
            continue;
        };
        let rest = &page[start..];
        let Some(gt) = rest.find('>') else { continue };
        if rest[..gt].ends_with('/') {
            continue;
        }
        let body = &rest[gt + 1..];
        let body = body.split("</text>").next().unwrap_or(body);
        out.push(WikiArticle {
            title,
            text: strip_markup(&unescape_xml(body)),
        });
    }
    out
}

/// The content of the first `<name>…</name>` element.
fn element<'a>(xml: &'a str, name: &str) -> Option<&'a str> {
    let open = format!("<{name}>");
    let start = xml.find(&open)? + open.len();
    let end = xml[start..].find(&format!("</{name}>"))?;
    Some(&xml[start..start + end])
}

/// Decodes XML's five named entities and numeric character references.
fn unescape_xml(s: &str) -> String {
    decode_entities(
        s,
        &[
            ("lt", "<"),
            ("gt", ">"),
            ("amp", "&"),
            ("quot", "\""),
            ("apos", "'"),
        ],
    )
}

/// Decodes `&name;` from `named` and `&#N;`/`&#xN;`; anything else is kept.
fn decode_entities(s: &str, named: &[(&str, &str)]) -> String {
    let mut out = String::with_capacity(s.len());
    let mut rest = s;
    while let Some(i) = rest.find('&') {
        out.push_str(&rest[..i]);
        rest = &rest[i..];
        // Entity names are ASCII: look for the `;` among the first bytes only.
        let semi = rest.bytes().take(12).position(|b| b == b';');
        let decoded = semi.and_then(|j| {
            let name = &rest[1..j];
            let ch = if let Some(hex) = name.strip_prefix("#x").or_else(|| name.strip_prefix("#X"))
            {
                u32::from_str_radix(hex, 16)
                    .ok()
                    .and_then(char::from_u32)
                    .map(String::from)
            } else if let Some(dec) = name.strip_prefix('#') {
                dec.parse().ok().and_then(char::from_u32).map(String::from)
            } else {
                named
                    .iter()
                    .find(|(n, _)| *n == name)
                    .map(|(_, v)| v.to_string())
            };
            ch.map(|c| (c, j + 1))
        });
        match decoded {
            Some((c, len)) => {
                out.push_str(&c);
                rest = &rest[len..];
            }
            None => {
                out.push('&');
                rest = &rest[1..];
            }
        }
    }
    out.push_str(rest);
    out
}

/// Replaces every outermost balanced `open … close` span by `f(inner)`; an
/// unclosed span is kept verbatim.
fn replace_balanced(s: &str, open: &str, close: &str, f: &dyn Fn(&str) -> String) -> String {
    let mut out = String::with_capacity(s.len());
    let mut rest = s;
    while let Some(i) = rest.find(open) {
        out.push_str(&rest[..i]);
        let mut depth = 0usize;
        let mut j = i;
        let mut end = None;
        while j < rest.len() {
            if rest[j..].starts_with(open) {
                depth += 1;
                j += open.len();
            } else if rest[j..].starts_with(close) {
                depth -= 1;
                j += close.len();
                if depth == 0 {
                    end = Some(j);
                    break;
                }
            } else {
                j += rest[j..].chars().next().map_or(1, char::len_utf8);
            }
        }
        let Some(end) = end else {
            out.push_str(&rest[i..]);
            return out;
        };
        out.push_str(&f(&rest[i + open.len()..end - close.len()]));
        rest = &rest[end..];
    }
    out.push_str(rest);
    out
}

/// Removes HTML-like tags: `<` followed by a letter or `/`, up to the next
/// `>` on the same line; any other `<` is text.
fn remove_tags(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    let mut rest = s;
    while let Some(i) = rest.find('<') {
        out.push_str(&rest[..i]);
        let after = &rest[i + 1..];
        let tag_like = after.starts_with(|c: char| c.is_ascii_alphabetic() || c == '/');
        match after.find(['>', '\n']) {
            Some(g) if tag_like && after.as_bytes()[g] == b'>' => rest = &after[g + 1..],
            _ => {
                out.push('<');
                rest = after;
            }
        }
    }
    out.push_str(rest);
    out
}

/// Removes `<tag …>…</tag>` and `<tag …/>` (case-insensitive tag name).
fn remove_element(s: &str, tag: &str) -> String {
    let mut out = String::with_capacity(s.len());
    let mut rest = s;
    let open = format!("<{tag}");
    let close = format!("</{tag}>");
    loop {
        let lower = rest.to_ascii_lowercase();
        let Some(i) = lower.find(&open) else { break };
        out.push_str(&rest[..i]);
        let gt = lower[i..].find('>').map(|g| i + g);
        let end = match gt {
            Some(g) if rest[..g].ends_with('/') => g + 1,
            Some(g) => lower[g..]
                .find(&close)
                .map_or(rest.len(), |c| g + c + close.len()),
            None => rest.len(),
        };
        rest = &rest[end..];
    }
    out.push_str(rest);
    out
}

fn link(inner: &str) -> String {
    let target = inner.split('|').next().unwrap_or("").trim();
    let lower = target.to_ascii_lowercase();
    let drop = ["file:", "image:", "category:", "media:"]
        .iter()
        .any(|p| lower.starts_with(p))
        || target.split_once(':').is_some_and(|(p, _)| {
            (2..=3).contains(&p.len()) && p.bytes().all(|b| b.is_ascii_lowercase())
        });
    if drop {
        return String::new();
    }
    let label = inner.rsplit('|').next().unwrap_or(inner);
    let label = if label.trim().is_empty() {
        target
    } else {
        label
    };
    replace_balanced(label, "[[", "]]", &link)
}

fn external_link(inner: &str) -> String {
    if !(inner.starts_with("http://") || inner.starts_with("https://") || inner.starts_with("//")) {
        return format!("[{inner}]");
    }
    inner
        .split_once(' ')
        .map_or(String::new(), |(_, label)| label.to_string())
}

/// Tidies what removed templates leave in parentheses: `( )` and `(, ; )`
/// disappear (with the space before them), `(, ; , from X)` becomes `(from X)`.
fn tidy_parens(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    let mut rest = s;
    while let Some(i) = rest.find('(') {
        out.push_str(&rest[..i]);
        let after = &rest[i + 1..];
        let inner_start = after
            .find(|c: char| !matches!(c, ' ' | ',' | ';'))
            .unwrap_or(after.len());
        if after[inner_start..].starts_with(')') {
            while out.ends_with(' ') {
                out.pop();
            }
            rest = &after[inner_start + 1..];
        } else {
            out.push('(');
            rest = &after[inner_start..];
        }
    }
    out.push_str(rest);
    out
}

/// Reduces wiki markup to plain text (see the module docs).
pub fn strip_markup(wiki: &str) -> String {
    let mut s = replace_balanced(wiki, "<!--", "-->", &|_| String::new());
    for tag in ["ref", "gallery", "math", "timeline", "imagemap"] {
        s = remove_element(&s, tag);
    }
    s = replace_balanced(&s, "{{", "}}", &|_| String::new());
    s = replace_balanced(&s, "{|", "|}", &|_| String::new());
    s = replace_balanced(&s, "[[", "]]", &link);
    s = replace_balanced(&s, "[", "]", &external_link);
    s = remove_tags(&s);
    s = s.replace("'''", "").replace("''", "");
    s = tidy_parens(&s);
    let s = decode_entities(
        &s,
        &[
            ("nbsp", " "),
            ("ndash", "–"),
            ("mdash", "—"),
            ("amp", "&"),
            ("lt", "<"),
            ("gt", ">"),
            ("quot", "\""),
        ],
    );
    let mut lines: Vec<String> = Vec::new();
    for line in s.lines() {
        let mut l = line.trim();
        if l.starts_with('=') && l.ends_with('=') {
            l = l.trim_matches('=').trim();
        }
        let l = l.trim_start_matches(['*', '#', ':', ';']).trim();
        if l.is_empty() {
            if lines.last().is_some_and(|p| !p.is_empty()) {
                lines.push(String::new());
            }
        } else {
            lines.push(l.split_whitespace().collect::<Vec<_>>().join(" "));
        }
    }
    lines.join("\n").trim().to_string()
}

#[cfg(test)]
#[allow(clippy::unwrap_used)] // a failed unwrap is a failed test
mod tests {
    use super::*;

    #[test]
    fn strips_common_markup() {
        let wiki = "{{Infobox|a={{nested}}}}\n'''Anarchism''' is a [[political philosophy]] of \
                    [[self-governance|self-governed]] societies.<ref name=\"x\">Cite</ref><ref name=\"y\"/> \
                    See [http://example.org the site] and [http://bare.org].<!-- hidden -->\n\n\n\
                    == History ==\n* One&nbsp;item &ndash; [[File:X.jpg|thumb|a [[cap]]]]\n\
                    {| class=\"wikitable\"\n|-\n| cell\n|}\n[[Category:Things]]\n[[de:Anarchismus]]\n<br/>Done";
        let text = strip_markup(wiki);
        assert_eq!(
            text,
            "Anarchism is a political philosophy of self-governed societies. See the site and .\n\n\
             History\nOne item –\n\nDone"
        );
    }

    #[test]
    fn unclosed_spans_do_not_panic() {
        assert_eq!(strip_markup("a {{b"), "a {{b");
        assert_eq!(strip_markup("x [[y"), "x [[y");
        assert_eq!(strip_markup("1 < 2 and <b>3</b> > 2"), "1 < 2 and 3 > 2");
        assert_eq!(
            strip_markup("Adobe ({{IPA|a}}, {{IPA|b}}; , from Spanish) x ( ) y (z"),
            "Adobe (from Spanish) x y (z"
        );
        assert_eq!(
            strip_markup("é [[ü|ö]] ß &#233; &#xE9; &bogus; &"),
            "é ö ß é é &bogus; &"
        );
        assert_eq!(unescape_xml("&هادي; &amp;ه"), "&هادي; &ه");
    }

    #[test]
    fn reads_pages_skipping_redirects_and_other_namespaces() {
        let xml = "<mediawiki><page><title>A &amp; B</title><ns>0</ns><revision><text xml:space=\"preserve\">\
                   '''A''' &lt;ref&gt;x&lt;/ref&gt;is [[b]].</text></revision></page>\
                   <page><title>R</title><ns>0</ns><redirect title=\"A\" /><revision><text>#REDIRECT [[A]]</text></revision></page>\
                   <page><title>Talk:A</title><ns>1</ns><revision><text>talk</text></revision></page>\
                   <page><title>E</title><ns>0</ns><revision><text /></revision></page></mediawiki>";
        let a = articles(xml);
        assert_eq!(
            a,
            [WikiArticle {
                title: "A & B".into(),
                text: "A is b.".into()
            }]
        );
    }
}
