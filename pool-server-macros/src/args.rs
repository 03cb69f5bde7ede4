//! Sorts the arguments of a route function into path parameters and
//! extractors, and rejects signatures a route cannot have.

use syn::{FnArg, LitStr, Pat, Signature, Type};

use crate::codegen::Target;

/// One argument of the route function.
pub(crate) struct Arg {
    /// The type as the user wrote it; errors about it are spanned on it.
    pub(crate) ty: Type,
    pub(crate) kind: ArgKind,
}

pub(crate) enum ArgKind {
    /// Named like a path parameter: parsed with `FromStr` from the value at
    /// `index` among the path's parameters.
    Param { index: usize, name: String },
    /// Anything else: built by `FromRequest`.
    Extractor,
}

/// Checks the signature and classifies its arguments. All problems are
/// reported at once, each spanned on the token at fault.
pub(crate) fn classify(sig: &Signature, target: &Target<'_>) -> syn::Result<Vec<Arg>> {
    let mut errors = Errors::default();
    if let Some(token) = &sig.asyncness {
        errors.push(syn::Error::new_spanned(
            token,
            "route functions cannot be `async`; they run on the server's worker threads, so write a plain `fn`",
        ));
    }
    if let Some(token) = &sig.unsafety {
        errors.push(syn::Error::new_spanned(
            token,
            "route functions cannot be `unsafe`; wrap the unsafe code in a safe function",
        ));
    }
    if !sig.generics.params.is_empty() || sig.generics.where_clause.is_some() {
        errors.push(syn::Error::new_spanned(
            &sig.generics,
            "route functions cannot be generic; the router needs one concrete function per route",
        ));
    }
    if let Some(variadic) = &sig.variadic {
        errors.push(syn::Error::new_spanned(
            variadic,
            "route functions cannot be variadic",
        ));
    }

    let (params, lit): (Vec<&str>, Option<&LitStr>) = match target {
        Target::Route(spec, lit) => (spec.params().collect(), Some(lit)),
        Target::Fallback => (Vec::new(), None),
    };
    let mut found = vec![false; params.len()];
    let mut args = Vec::with_capacity(sig.inputs.len());
    for input in &sig.inputs {
        let typed = match input {
            FnArg::Receiver(receiver) => {
                errors.push(syn::Error::new_spanned(
                    receiver,
                    "route functions cannot take `self`; write a free function",
                ));
                continue;
            }
            FnArg::Typed(typed) => typed,
        };
        let name = match &*typed.pat {
            Pat::Ident(pat) => Some(unraw(&pat.ident)),
            _ => None,
        };
        let index = name
            .as_deref()
            .and_then(|name| params.iter().position(|p| *p == name));
        let kind = match (index, name) {
            (Some(index), Some(name)) => {
                found[index] = true;
                if let Type::Reference(reference) = &*typed.ty {
                    errors.push(syn::Error::new_spanned(
                        reference,
                        format!(
                            "path parameter `{name}` is parsed with `FromStr`, which cannot borrow: take it as an owned type such as `String`"
                        ),
                    ));
                }
                ArgKind::Param { index, name }
            }
            _ => ArgKind::Extractor,
        };
        args.push(Arg {
            ty: (*typed.ty).clone(),
            kind,
        });
    }
    for (name, found) in params.iter().zip(found) {
        if let (false, Some(lit)) = (found, lit) {
            errors.push(syn::Error::new_spanned(
                lit,
                format!(
                    "path parameter `{name}` has no function argument named `{name}`; add one, such as `{name}: String`"
                ),
            ));
        }
    }
    errors.finish()?;
    Ok(args)
}

fn unraw(ident: &syn::Ident) -> String {
    let name = ident.to_string();
    match name.strip_prefix("r#") {
        Some(bare) => bare.to_owned(),
        None => name,
    }
}

/// Collects errors so one compile reports all of them.
#[derive(Default)]
struct Errors(Option<syn::Error>);

impl Errors {
    fn push(&mut self, error: syn::Error) {
        match &mut self.0 {
            Some(first) => first.combine(error),
            None => self.0 = Some(error),
        }
    }

    fn finish(self) -> syn::Result<()> {
        self.0.map_or(Ok(()), Err)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn classify_str(route: &str, sig: &str) -> Result<Vec<(String, Option<usize>)>, String> {
        let lit: LitStr = syn::parse_str(&format!("{route:?}")).unwrap();
        let spec = crate::route::parse(&lit).unwrap();
        let sig: Signature = syn::parse_str(sig).unwrap();
        classify(&sig, &Target::Route(&spec, &lit))
            .map(|args| {
                args.into_iter()
                    .map(|arg| {
                        let ty = arg.ty;
                        let index = match arg.kind {
                            ArgKind::Param { index, .. } => Some(index),
                            ArgKind::Extractor => None,
                        };
                        (quote::quote!(#ty).to_string(), index)
                    })
                    .collect()
            })
            .map_err(|e| {
                e.into_iter()
                    .map(|e| e.to_string())
                    .collect::<Vec<_>>()
                    .join(" | ")
            })
    }

    #[test]
    fn arguments_named_like_params_are_params() {
        let args = classify_str(
            "GET /u/{id}/{*rest}",
            "fn f(req: &Request, rest: String, r#id: u64, State(s): State<u8>)",
        )
        .unwrap();
        let indices: Vec<_> = args.iter().map(|(_, index)| *index).collect();
        assert_eq!(indices, [None, Some(1), Some(0), None]);
    }

    #[test]
    fn bad_signatures_are_all_reported() {
        let cases: &[(&str, &str, &str)] = &[
            (
                "GET /u/{id}",
                "fn f()",
                "path parameter `id` has no function argument named `id`",
            ),
            ("GET /u/{id}", "fn f(id: &str)", "cannot borrow"),
            ("GET /", "async fn f()", "cannot be `async`"),
            ("GET /", "unsafe fn f()", "cannot be `unsafe`"),
            ("GET /", "fn f<T>(t: T)", "cannot be generic"),
            ("GET /", "fn f(&self)", "cannot take `self`"),
        ];
        for (route, sig, expected) in cases {
            let message = classify_str(route, sig).err().unwrap_or_default();
            assert!(message.contains(expected), "{sig}: {message:?}");
        }
        let both = classify_str("GET /{a}/{b}", "async fn f()").unwrap_err();
        assert_eq!(both.matches(" | ").count(), 2, "{both}");
    }
}
