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
        let lines: Vec<&Vec<Cell>> = std::iter::once(&self.header)
            .filter(|header| !header.is_empty())
            .chain(&self.rows)
            .collect();
        let columns = lines.iter().map(|cells| cells.len()).max().unwrap_or(0);
        let widths: Vec<usize> = (0..columns)
            .map(|column| {
                lines
                    .iter()
                    .filter_map(|cells| cells.get(column))
                    .map(|cell| width(&cell.text))
                    .max()
                    .unwrap_or(0)
            })
            .collect();
        let mut out = String::new();
        for cells in lines {
            let mut line = " ".repeat(self.indent);
            for (column, cell) in cells.iter().enumerate() {
                let last = column + 1 == cells.len();
                let pad = widths[column].saturating_sub(width(&cell.text));
                if cell.right {
                    line.push_str(&" ".repeat(pad));
                }
                line.push_str(&super::styled(cell.style, &cell.text));
                if !cell.right && !last {
                    line.push_str(&" ".repeat(pad));
                }
                if !last {
                    line.push_str("  ");
                }
            }
            out.push_str(line.trim_end());
            out.push('\n');
        }
        out
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
