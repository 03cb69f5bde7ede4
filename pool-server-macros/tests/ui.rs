//! Compile tests for `#[route]` and `routes!`: every diagnostic in
//! `tests/ui/fail` (each with the `.stderr` it must print) and every
//! argument and return form in `tests/ui/pass`.
//!
//! Regenerate the `.stderr` files with `TRYBUILD=overwrite cargo test -p
//! pool-server-macros --test ui` and review the diff: each must point at
//! the right span with a clear message.

#[test]
fn ui() {
    let cases = trybuild::TestCases::new();
    cases.pass("tests/ui/pass/*.rs");
    cases.compile_fail("tests/ui/fail/*.rs");
}
