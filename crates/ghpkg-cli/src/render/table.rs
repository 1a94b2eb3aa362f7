//! Aligned columns: widths come from the plain text, styles are applied after padding, so
//! colour never shifts a column.

use anstyle::Style;

/// One cell: its text and how it is shown.
#[derive(Clone, Debug, Default)]
pub struct Cell {
    text: String,
    style: Style,
    right: bool,
}

impl Cell {
    /// A plain cell.
    pub fn new(text: impl Into<String>) -> Cell {
        Cell {
            text: text.into(),
            ..Cell::default()
        }
    }

    /// The same cell in `style`.
    pub fn style(mut self, style: Style) -> Cell {
        self.style = style;
        self
    }

    /// The same cell, aligned right (numbers).
    pub fn right(mut self) -> Cell {
        self.right = true;
        self
    }
}

impl From<String> for Cell {
    fn from(text: String) -> Cell {
        Cell::new(text)
    }
}

impl From<&str> for Cell {
    fn from(text: &str) -> Cell {
        Cell::new(text)
    }
}

/// Rows under a header, each column as wide as its widest cell; the last column is not padded.
#[derive(Clone, Debug, Default)]
pub struct Table {
    indent: usize,
    header: Vec<Cell>,
    rows: Vec<Vec<Cell>>,
}

impl Table {
    /// A table with these column headers (an empty list: no header line).
    pub fn new(header: &[&str]) -> Table {
        Table {
            indent: 0,
            header: header
                .iter()
                .map(|title| Cell::new(*title).style(super::DIM))
                .collect(),
            rows: Vec::new(),
        }
    }

    /// Indents every line by `spaces`.
    pub fn indent(mut self, spaces: usize) -> Table {
        self.indent = spaces;
        self
    }

    /// Adds a row.
    pub fn row(&mut self, cells: Vec<Cell>) {
        self.rows.push(cells);
    }

    /// Whether there are no rows.
    pub fn is_empty(&self) -> bool {
        self.rows.is_empty()
    }

    /// The table as lines, each ending in a newline.
    pub fn render(&self) -> String {
        let mut out = String::new();
        let rows = || self.rows.iter().map(|cells| cells.as_slice());
        write_lines(
            &self.header,
            self.indent,
            &column_widths(&self.header, rows()),
            rows(),
            &mut out,
        );
        out
    }

    /// Writes the rows `rows` makes under `header` to `out`, without holding them: `rows` is
    /// called twice, once to measure the columns and once to write (for tables of 150,000
    /// versions).
    pub fn stream<I>(
        header: &[&str],
        indent: usize,
        rows: impl Fn() -> I,
        out: &mut impl std::fmt::Write,
    ) where
        I: Iterator<Item = Vec<Cell>>,
    {
        let header = Table::new(header).header;
        let mut widths = column_widths(&header, std::iter::empty());
        for cells in rows() {
            for (column, cell) in cells.iter().enumerate() {
                if widths.len() <= column {
                    widths.push(0);
                }
                widths[column] = widths[column].max(width(&cell.text));
            }
        }
        let mut lines = String::new();
        write_lines(&header, indent, &widths, std::iter::empty(), &mut lines);
        for cells in rows() {
            write_lines(
                &[],
                indent,
                &widths,
                std::iter::once(cells.as_slice()),
                &mut lines,
            );
            if lines.len() >= 1 << 16 {
                let _ = out.write_str(&lines);
                lines.clear();
            }
        }
        let _ = out.write_str(&lines);
    }
}

/// Each column's width: its widest cell, header included.
fn column_widths<'a>(header: &[Cell], rows: impl Iterator<Item = &'a [Cell]>) -> Vec<usize> {
    let mut widths: Vec<usize> = header.iter().map(|cell| width(&cell.text)).collect();
    for cells in rows {
        for (column, cell) in cells.iter().enumerate() {
            if widths.len() <= column {
                widths.push(0);
            }
            widths[column] = widths[column].max(width(&cell.text));
        }
    }
    widths
}

/// Writes the header (when not empty) and `rows`, padded to `widths`; the last column of a line
/// is not padded.
fn write_lines<'a>(
    header: &'a [Cell],
    indent: usize,
    widths: &[usize],
    rows: impl Iterator<Item = &'a [Cell]>,
    out: &mut String,
) {
    let lines = std::iter::once(header)
        .filter(|header| !header.is_empty())
        .chain(rows);
    for cells in lines {
        let start = out.len();
        out.extend(std::iter::repeat_n(' ', indent));
        for (column, cell) in cells.iter().enumerate() {
            let last = column + 1 == cells.len();
            let pad = widths[column].saturating_sub(width(&cell.text));
            if cell.right {
                out.extend(std::iter::repeat_n(' ', pad));
            }
            out.push_str(&super::styled(cell.style, &cell.text));
            if !cell.right && !last {
                out.extend(std::iter::repeat_n(' ', pad));
            }
            if !last {
                out.push_str("  ");
            }
        }
        let trimmed = out[start..].trim_end().len();
        out.truncate(start + trimmed);
        out.push('\n');
    }
}

/// The width of `text` on a terminal, counting each character as one column.
fn width(text: &str) -> usize {
    text.chars().count()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn columns_align_and_numbers_align_right() {
        let mut table = Table::new(&["NAME", "VERSIONS"]);
        table.row(vec!["web/app".into(), Cell::new("3,000").right()]);
        table.row(vec!["api".into(), Cell::new("6").right()]);
        let plain = anstream::adapter::strip_str(&table.render()).to_string();
        assert_eq!(
            plain,
            "NAME     VERSIONS\nweb/app     3,000\napi             6\n"
        );
    }
}
