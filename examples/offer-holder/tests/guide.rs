//! docs/own-framework.md quotes the example's files whole: each code block
//! whose info string names a file must be that file, byte for byte, so the
//! guide's code is the example's code.
use std::path::Path;

const QUOTED: [&str; 7] = [
    "examples/offer-holder/src/lib.rs",
    "examples/offer-holder/src/plugin.rs",
    "examples/offer-holder/src/main.rs",
    "examples/offer-holder/scenarios/dropped-accept.toml",
    "examples/offer-holder/tests/props.rs",
    "examples/offer-holder/src/sorter.rs",
    "examples/offer-holder/scenarios/greedy-vs-drf.toml",
];

/// (file named in the info string, block text) for every fenced block that names one.
fn blocks(guide: &str) -> Vec<(String, String)> {
    let mut found = Vec::new();
    let mut lines = guide.lines();
    while let Some(line) = lines.next() {
        let Some(info) = line.strip_prefix("```") else { continue };
        let file = info.split_whitespace().nth(1).map(str::to_string);
        let mut body = String::new();
        for l in lines.by_ref().take_while(|l| *l != "```") {
            body.push_str(l);
            body.push('\n');
        }
        if let Some(file) = file {
            found.push((file, body));
        }
    }
    found
}

#[test]
fn the_guide_quotes_every_file_of_the_example_as_it_is() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("../..");
    let guide = std::fs::read_to_string(root.join("docs/own-framework.md")).expect("the guide");
    let blocks = blocks(&guide);
    let named: Vec<&str> = blocks.iter().map(|(f, _)| f.as_str()).collect();
    assert_eq!(named, QUOTED, "the guide quotes these files, in this order");
    for (file, body) in &blocks {
        let text = std::fs::read_to_string(root.join(file)).expect(file);
        assert!(*body == text, "docs/own-framework.md's copy of {file} differs from the file: copy it again");
        // The line counts the guide gives.
        let short = file.trim_start_matches("examples/offer-holder/");
        if let Some(at) = guide.find(&format!("`{short}` (")) {
            let said: usize = guide[at + short.len() + 4..].split(' ').next().unwrap().parse().unwrap();
            assert_eq!(said, text.lines().count(), "the guide's line count of {short}");
        }
    }
}
