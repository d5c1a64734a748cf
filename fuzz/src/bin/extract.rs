fn main() {
    afl::fuzz!(|data: &[u8]| kawan_fuzz::extract(data));
}
