//! Emits the user's function unchanged plus its hidden route constant.
//!
//! For `#[route("GET /users/{id}")] fn user(id: u64) -> String` the output is
//! the function and, next to it,
//!
//! ```text
//! #[doc(hidden)]
//! const __pool_server_route_user: ::pool_server::__private::Route = {
//!     fn handler(cx: &RequestContext<'_>) -> Response {
//!         let arg0 = match path_param::<u64>(cx, 0, "id", "u64") {
//!             Ok(v) => v,
//!             Err(rejection) => return into_response(rejection),
//!         };
//!         into_response(user(arg0))
//!     }
//!     fn requirements(needs: &mut Requirements) {}
//!     Route::new("GET", "/users/{id}", &[Segment::Static("users"), Segment::Param],
//!                concat!(module_path!(), "::user"), handler, requirements)
//! };
//! ```
//!
//! Paths go through `::pool_server::__private` only. Each argument's code is
//! spanned on its type, so a type that is not an extractor (or not `FromStr`)
//! is reported on the user's line.

use proc_macro2::{Span, TokenStream};
use quote::{format_ident, quote, quote_spanned, ToTokens};
use syn::spanned::Spanned;
use syn::{ItemFn, LitStr, ReturnType};

use crate::args::{Arg, ArgKind};
use crate::route::{RouteSpec, Segment};

/// The prefix of the hidden constant that `routes![name]` refers to.
pub(crate) const COMPANION_PREFIX: &str = "__pool_server_route_";

/// What the constant describes: a route with its string, or the fallback.
pub(crate) enum Target<'a> {
    Route(&'a RouteSpec, &'a LitStr),
    Fallback,
}

pub(crate) fn route(item: &ItemFn, target: &Target<'_>, args: &[Arg]) -> TokenStream {
    let private = quote!(::pool_server::__private);
    let fn_name = &item.sig.ident;
    let companion = format_ident!("{}{}", COMPANION_PREFIX, fn_name);
    let vis = &item.vis;
    let cfgs = item.attrs.iter().filter(|attr| attr.path().is_ident("cfg"));

    let mut bindings = Vec::with_capacity(args.len());
    let mut call_args = Vec::with_capacity(args.len());
    let mut requirements = Vec::new();
    for (i, arg) in args.iter().enumerate() {
        let var = format_ident!("__pool_server_arg_{}", i);
        let ty = &arg.ty;
        let span = ty.span();
        let value = match &arg.kind {
            ArgKind::Param { index, name } => {
                let type_name = LitStr::new(&type_text(ty), Span::call_site());
                quote_spanned! {span=>
                    #private::path_param::<#ty>(__pool_server_cx, #index, #name, #type_name)
                }
            }
            ArgKind::Extractor => {
                requirements.push(quote_spanned! {span=>
                    <#ty as #private::FromRequest<'_>>::requirements(__pool_server_needs);
                });
                quote_spanned! {span=>
                    <#ty as #private::FromRequest<'_>>::from_request(__pool_server_cx)
                }
            }
        };
        bindings.push(quote! {
            let #var = match #value {
                ::core::result::Result::Ok(__pool_server_value) => __pool_server_value,
                ::core::result::Result::Err(__pool_server_rejection) => {
                    return #private::into_response(__pool_server_rejection);
                }
            };
        });
        call_args.push(var);
    }

    let output_span = match &item.sig.output {
        ReturnType::Default => fn_name.span(),
        ReturnType::Type(_, ty) => ty.span(),
    };
    // The output is bound first so that a type without `IntoResponse` is
    // reported on the return type alone, not on `name() -> Type`.
    let output = quote_spanned!(output_span=> __pool_server_output);
    let respond = quote! {
        let #output = #fn_name(#(#call_args),*);
        #private::into_response(#output)
    };
    let needs = if requirements.is_empty() {
        quote!(_: &mut #private::Requirements)
    } else {
        quote!(__pool_server_needs: &mut #private::Requirements)
    };

    let name = fn_name.to_string();
    let full_name = quote!(::core::concat!(::core::module_path!(), "::", #name));
    let constructor = match target {
        Target::Route(spec, lit) => {
            let method = &spec.method;
            let path = LitStr::new(&spec.path, lit.span());
            let segments = spec.segments.iter().map(|segment| match segment {
                Segment::Static(text) => quote!(#private::Segment::Static(#text)),
                Segment::Param(_) => quote!(#private::Segment::Param),
                Segment::Wildcard(_) => quote!(#private::Segment::Wildcard),
            });
            quote! {
                #private::Route::new(
                    #method,
                    #path,
                    &[#(#segments),*],
                    #full_name,
                    __pool_server_handler,
                    __pool_server_requirements,
                )
            }
        }
        Target::Fallback => quote! {
            #private::Route::fallback(
                #full_name,
                __pool_server_handler,
                __pool_server_requirements,
            )
        },
    };

    let mut tokens = item.to_token_stream();
    tokens.extend(quote! {
        #(#cfgs)*
        #[doc(hidden)]
        #[allow(non_upper_case_globals)]
        #vis const #companion: #private::Route = {
            fn __pool_server_handler(
                __pool_server_cx: &#private::RequestContext<'_>,
            ) -> ::pool_server::Response {
                #(#bindings)*
                #respond
            }
            fn __pool_server_requirements(#needs) {
                #(#requirements)*
            }
            #constructor
        };
    });
    tokens
}

/// The type as written, compacted for a message (`std::net::IpAddr`, not
/// `std :: net :: IpAddr`).
fn type_text(ty: &syn::Type) -> String {
    quote!(#ty)
        .to_string()
        .replace(" :: ", "::")
        .replace(":: ", "::")
        .replace(" <", "<")
        .replace("< ", "<")
        .replace(" >", ">")
        .replace(" ,", ",")
}
