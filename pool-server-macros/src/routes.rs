//! `routes![a, b, path::c]`: names the hidden route constants that
//! `#[route]` emitted and builds a `pool_server::Routes` from them.

use proc_macro2::TokenStream;
use quote::{format_ident, quote};
use syn::parse::{Parse, ParseStream};
use syn::punctuated::Punctuated;
use syn::{Path, PathArguments, Token};

use crate::codegen::COMPANION_PREFIX;

/// The comma-separated paths of route functions.
pub(crate) struct RouteList(Punctuated<Path, Token![,]>);

impl Parse for RouteList {
    fn parse(input: ParseStream<'_>) -> syn::Result<Self> {
        Punctuated::parse_terminated(input).map(RouteList)
    }
}

pub(crate) fn expand(list: RouteList) -> syn::Result<TokenStream> {
    let private = quote!(::pool_server::__private);
    let mut companions = Vec::with_capacity(list.0.len());
    for path in list.0 {
        let mut companion = path;
        let last = companion
            .segments
            .last_mut()
            .expect("syn never parses an empty path");
        if !matches!(last.arguments, PathArguments::None) {
            return Err(syn::Error::new_spanned(
                &last.arguments,
                "route functions are not generic; name the function without arguments",
            ));
        }
        // The new identifier keeps the span of the user's, so a function
        // without `#[route]` is reported where `routes![..]` names it.
        last.ident = format_ident!(
            "{}{}",
            COMPANION_PREFIX,
            last.ident,
            span = last.ident.span()
        );
        companions.push(companion);
    }
    // The constant check finds two routes with the same method and path at
    // compile time; `Builder::build` checks again across `routes!` lists.
    Ok(quote! {{
        const __POOL_SERVER_ROUTES: &[#private::Route] = &[#(#companions),*];
        const _: () = #private::assert_distinct(__POOL_SERVER_ROUTES);
        #private::routes(__POOL_SERVER_ROUTES)
    }})
}
