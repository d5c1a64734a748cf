//! Writes the seed corpora: `seeds DIR` fills DIR/<target>/<name>.
fn main() {
    let Some(dir) = std::env::args().nth(1) else {
        eprintln!("usage: seeds DIR");
        std::process::exit(2);
    };
    for (target, name, bytes) in kawan_fuzz::seeds() {
        let dir = std::path::Path::new(&dir).join(target);
        if let Err(e) = std::fs::create_dir_all(&dir).and_then(|()| std::fs::write(dir.join(name), bytes)) {
            eprintln!("{}: {e}", dir.display());
            std::process::exit(1);
        }
    }
}
