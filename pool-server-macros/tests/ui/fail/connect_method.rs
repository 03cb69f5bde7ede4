use pool_server::route;

#[route("CONNECT /proxy")]
fn proxy() -> &'static str {
    "tunnel"
}

fn main() {}
