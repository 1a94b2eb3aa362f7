//! Doc comments that render: progenitor writes each multi-line description as one
//! `#[doc = "…"]` attribute, which prettyplease prints as a `/** … */` block. Inside a module
//! rustfmt indents the block's lines by four spaces, and rustdoc then reads them as Rust code
//! blocks (broken code, and intra-doc link definitions that no longer resolve). Splitting every
//! such attribute into one attribute per line makes them `///` comments, indented as code is.

use syn::visit_mut::VisitMut;
use syn::{Attribute, Expr, ExprLit, Lit, LitStr, Meta, parse_quote};

/// Rewrites every multi-line doc attribute in `file` as one attribute per line.
pub(crate) fn one_line_per_attribute(file: &mut syn::File) {
    LineDocs.visit_file_mut(file);
}

struct LineDocs;

impl VisitMut for LineDocs {
    fn visit_attributes_mut(&mut self, attributes: &mut Vec<Attribute>) {
        let mut rewritten = Vec::with_capacity(attributes.len());
        for attribute in attributes.drain(..) {
            match multi_line_doc(&attribute) {
                Some(text) => {
                    for line in text.lines() {
                        let line = if line.is_empty() || line.starts_with(' ') {
                            line.to_string()
                        } else {
                            format!(" {line}")
                        };
                        let literal = LitStr::new(&line, proc_macro2::Span::call_site());
                        rewritten.push(parse_quote!(#[doc = #literal]));
                    }
                }
                None => rewritten.push(attribute),
            }
        }
        *attributes = rewritten;
    }
}

/// The text of an outer `#[doc = "…"]` attribute that spans several lines.
fn multi_line_doc(attribute: &Attribute) -> Option<String> {
    if !matches!(attribute.style, syn::AttrStyle::Outer) || !attribute.path().is_ident("doc") {
        return None;
    }
    let Meta::NameValue(name_value) = &attribute.meta else {
        return None;
    };
    let Expr::Lit(ExprLit {
        lit: Lit::Str(text),
        ..
    }) = &name_value.value
    else {
        return None;
    };
    let text = text.value();
    text.contains('\n').then_some(text)
}
