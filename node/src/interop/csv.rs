//! CSV out, for spreadsheets and case systems: the bulk-check download and
//! the indicator export. Quoting is the `csv` crate's (RFC 4180), so a value
//! with a comma, quote or line break stays one field. A cell a spreadsheet
//! would run as a formula (`=`, `@`, a tab or carriage return first, or `+`
//! / `-` before anything but a number) is prefixed with `'`: shared values
//! come from other agencies and must never execute on an analyst's machine.
//! Phone numbers (`+44…`) and negative numbers stay as they are.

/// A CSV document: the header row, then each row.
pub fn document(header: &[&str], rows: impl IntoIterator<Item = Vec<String>>) -> String {
    let mut w = csv::Writer::from_writer(Vec::new());
    // Writing to memory cannot fail; a row of the wrong width is a bug here,
    // and the writer refuses it rather than shifting columns.
    let _ = w.write_record(header);
    for row in rows {
        let _ = w.write_record(row.iter().map(|cell| defused(cell).into_owned()));
    }
    String::from_utf8(w.into_inner().unwrap_or_default()).unwrap_or_default()
}

/// A cell as a spreadsheet may open it: never a formula.
fn defused(cell: &str) -> std::borrow::Cow<'_, str> {
    let numeric = |rest: &str| !rest.is_empty() && rest.chars().all(|c| c.is_ascii_digit() || " .-()".contains(c));
    let risky = match cell.chars().next() {
        Some('=' | '@' | '\t' | '\r') => true,
        Some('+' | '-') => !numeric(&cell[1..]),
        _ => false,
    };
    if risky { format!("'{cell}").into() } else { cell.into() }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fields_with_commas_quotes_and_newlines_stay_one_field() {
        let text = document(
            &["input", "note"],
            [vec!["a,b".into(), "say \"hi\"\nthere".into()], vec!["plain".into(), String::new()]],
        );
        assert_eq!(text, "input,note\n\"a,b\",\"say \"\"hi\"\"\nthere\"\nplain,\n");
        let mut r = csv::Reader::from_reader(text.as_bytes());
        let rows: Vec<csv::StringRecord> = r.records().map(Result::unwrap).collect();
        assert_eq!(&rows[0][1], "say \"hi\"\nthere");
    }

    #[test]
    fn cells_a_spreadsheet_would_run_are_defused() {
        let text = document(
            &["a", "b", "c", "d", "e", "f"],
            [vec![
                "=HYPERLINK(\"http://x.example\")".into(),
                "+cmd|' /C calc'!A0".into(),
                "@SUM(A1)".into(),
                "+447700900123".into(),
                "-12.5".into(),
                "recruit.example".into(),
            ]],
        );
        let line = text.lines().nth(1).unwrap();
        assert!(line.starts_with("\"'=HYPERLINK"), "{line}");
        assert!(line.contains(",'+cmd") && line.contains(",'@SUM"), "{line}");
        assert!(line.ends_with(",+447700900123,-12.5,recruit.example"), "numbers and phones stay: {line}");
    }
}
