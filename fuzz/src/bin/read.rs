fn main() {
    afl::fuzz!(|data: &[u8]| kawan_fuzz::read(data));
}
