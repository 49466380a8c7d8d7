// RFC 4180 CSV parsing with line numbers: quoted fields, "" escapes, commas and newlines inside
// quotes, CRLF/LF/CR line ends, a UTF-8 BOM. Malformed records are returned with an error (not
// thrown) so a caller can skip them; every record knows the line it starts on.

export interface CsvRecord {
  fields: string[];
  /** 1-based line number where the record starts. */
  line: number;
  /** Set when the record is malformed; `fields` then holds what could be read. */
  error?: string;
}

/**
 * Splits CSV text into records. Blank lines are skipped. A quote inside an unquoted field or
 * text after a closing quote marks the record as malformed; an unterminated quoted field marks
 * the last record (which then swallows the rest of the file) as malformed.
 */
export function parseCsv(text: string): CsvRecord[] {
  const records: CsvRecord[] = [];
  let i = text.charCodeAt(0) === 0xfeff ? 1 : 0;
  let line = 1;
  const n = text.length;
  while (i < n) {
    const start = line;
    const fields: string[] = [];
    let error: string | undefined;
    // A record: fields separated by commas, ended by a line break or the end of the text.
    for (;;) {
      let field = '';
      if (text[i] === '"') {
        const quoteLine = line;
        i++;
        let closed = false;
        while (i < n) {
          const c = text[i]!;
          if (c === '"') {
            if (text[i + 1] === '"') { field += '"'; i += 2; continue; }
            i++;
            closed = true;
            break;
          }
          if (c === '\n' || (c === '\r' && text[i + 1] !== '\n')) line++;
          field += c;
          i++;
        }
        if (!closed) error ??= `unterminated quoted field (opened on line ${quoteLine})`;
        // After a closing quote only a comma or a line end may follow.
        if (closed && i < n && text[i] !== ',' && text[i] !== '\n' && text[i] !== '\r') {
          error ??= `unexpected text after a closing quote in field ${fields.length + 1}`;
          while (i < n && text[i] !== ',' && text[i] !== '\n' && text[i] !== '\r') field += text[i++];
        }
      } else {
        while (i < n && text[i] !== ',' && text[i] !== '\n' && text[i] !== '\r') {
          if (text[i] === '"') error ??= `stray quote inside unquoted field ${fields.length + 1}`;
          field += text[i++];
        }
      }
      fields.push(field);
      if (i < n && text[i] === ',') { i++; continue; }
      break;
    }
    // Consume the line end (CRLF, LF or CR).
    if (text[i] === '\r') i++;
    if (text[i] === '\n') i++;
    line++;
    const blank = fields.length === 1 && fields[0] === '' && !error;
    if (!blank) records.push(error ? { fields, line: start, error } : { fields, line: start });
  }
  return records;
}

/** Quotes a field if it needs it (for writing metadata files). */
export function csvField(value: string | number): string {
  const s = String(value);
  return /[",\r\n]/.test(s) || s !== s.trim() ? `"${s.replace(/"/g, '""')}"` : s;
}

/** One CSV line (no line break) from values. */
export function csvLine(values: readonly (string | number)[]): string {
  return values.map(csvField).join(',');
}
