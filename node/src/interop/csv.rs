//! CSV out, for spreadsheets and case systems: the bulk-check download and
//! the indicator export. Quoting is the `csv` crate's (RFC 4180), so a value
//! with a comma, quote or line break stays one field.

/// A CSV document: the header row, then each row.
pub fn document(header: &[&str], rows: impl IntoIterator<Item = Vec<String>>) -> String {
    let mut w = csv::Writer::from_writer(Vec::new());
    // Writing to memory cannot fail; a row of the wrong width is a bug here,
    // and the writer refuses it rather than shifting columns.
    let _ = w.write_record(header);
    for row in rows {
        let _ = w.write_record(&row);
    }
    String::from_utf8(w.into_inner().unwrap_or_default()).unwrap_or_default()
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
}
