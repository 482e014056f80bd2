/* Split CSV text into records and cells the way Python's csv module reads them, in one pass.
 *
 * The dialect is csv's default (double quotes, "" for a quote inside quotes, no escape
 * character, not strict: a quote inside an unquoted field is a plain character, and so is what
 * follows a closing quote), with '\n' as the only record end: "\r\n" ends a record too, and a
 * lone '\r' outside quotes is a plain character. Each record keeps the physical line it starts
 * on, its field count and, when it needed quoting rules or has the wrong number of fields, its
 * raw text. Each cell of a prepared column also gets its "present" form: spaces (every
 * character str.isspace() accepts, and the BOM) trimmed and inner runs collapsed to one ' ';
 * NULL when that is the cell itself, '' when nothing is left or it is a null token. A record
 * whose prepared cells hold a control character (C0, DEL or C1, spaces aside) is flagged, and
 * so is one holding U+FFFD, what the decoder put where the file's bytes were not text.
 *
 * Where csv differs: a quoted field still open at the end of the input, or `max_quote_bytes`
 * past its record's start, is a stray quote, not a value that takes the rest of the file. The
 * record is cut at the end of the quote's line and flagged, and the lines after it are read
 * on their own. A record whose quoted fields hold line breaks is flagged too.
 *
 * Output goes into Arrow string arrays whose buffers the caller allocates: data buffers as
 * large as the input (a column's cells never hold more bytes), offsets and validity for one
 * record per line. Loaded with ctypes; campuslake/ingest/csv_split.py is the binding.
 */

#include <stdint.h>
#include <string.h>

#define FLAG_CONTROL 1     /* a prepared cell holds a control character */
#define FLAG_OPEN_QUOTE 2  /* a quoted field did not close: the record ends with the quote's line */
#define FLAG_LINE_BREAK 4  /* a quoted field holds a line break: the record runs over several lines */
#define FLAG_UNREADABLE 8  /* a prepared cell holds U+FFFD: bytes the decoder could not read */

typedef struct {
    int32_t *offsets;   /* records + 1 */
    uint8_t *data;
    uint8_t *valid;     /* Arrow validity bitmap */
    int64_t used;       /* bytes of data written so far */
    int64_t nulls;
} cl_strings;

typedef struct {
    /* options, set by the caller */
    uint8_t delimiter;
    int32_t width;               /* fields past it are counted, not kept */
    const uint8_t *prepare;      /* width flags: compute the column's present form */
    const uint8_t *tokens;       /* null tokens, lower-case ASCII, each ended by a NUL byte */
    int32_t token_count;
    int32_t token_max;           /* bytes of the longest token */
    int64_t line;                /* physical line of the next byte; advanced as input is consumed */
    int64_t max_records;         /* stop after this many records (0: no limit) */
    int64_t max_quote_bytes;     /* how far past its record's start a quoted field may reach */
    /* results */
    int64_t records;             /* records written (blank lines are not records) */
    int64_t blank_lines;
    int64_t *lines;              /* per record: its first physical line */
    int32_t *field_counts;
    cl_strings raw_line;         /* per record: its text, only where quoting or the width was off */
    cl_strings *cells;           /* width columns */
    cl_strings *present;         /* width columns; untouched where prepare[j] is 0 */
    int8_t *flags;               /* per record: the FLAG_ bits above */
} cl_split;

/* Lookup tables of one cl_split_records call. */
typedef struct {
    uint8_t special[256];        /* bytes that end a run of plain cell bytes: delimiter, '"', '\n', '\r' */
    uint8_t token_start[256];    /* first bytes of the null tokens, in both cases */
    int32_t token_length[64];    /* MAX_TOKENS in csv_split.py */
} cl_tables;

/* Length of the space character at p (str.isspace() or the BOM), 0 when it is not one. */
static int space_length(const uint8_t *p, const uint8_t *end) {
    uint8_t c = p[0];
    if (c == ' ' || (c >= 9 && c <= 13) || (c >= 0x1C && c <= 0x1F)) return 1;
    if (c < 0xC2) return 0;
    if (c == 0xC2) return (p + 1 < end && (p[1] == 0x85 || p[1] == 0xA0)) ? 2 : 0;
    if (p + 2 >= end) return 0;
    uint8_t b = p[1], d = p[2];
    if (c == 0xE1) return (b == 0x9A && d == 0x80) ? 3 : 0;                           /* U+1680 */
    if (c == 0xE2) {
        if (b == 0x80 && (d <= 0x8A || d == 0xA8 || d == 0xA9 || d == 0xAF)) return 3;  /* U+2000-200A, 2028, 2029, 202F */
        return (b == 0x81 && d == 0x9F) ? 3 : 0;                                        /* U+205F */
    }
    if (c == 0xE3) return (b == 0x80 && d == 0x80) ? 3 : 0;                           /* U+3000 */
    if (c == 0xEF) return (b == 0xBB && d == 0xBF) ? 3 : 0;                           /* U+FEFF */
    return 0;
}

static int only_spaces(const uint8_t *p, const uint8_t *end) {
    while (p < end) {
        int n = space_length(p, end);
        if (!n) return 0;
        p += n;
    }
    return 1;
}

/* A printable ASCII character other than ' ': never part of a run of spaces. */
static inline int plain(uint8_t c) { return c > 0x20 && c < 0x7F; }

/* The cell is one of the null tokens, compared in lower case ('\u212A' KELVIN SIGN is the one
 * non-ASCII character whose lower case is ASCII: 'k'). */
static int is_token(const cl_split *s, const cl_tables *t, const uint8_t *p, int64_t n) {
    uint8_t folded[256];
    int64_t m = 0;
    if (n == 0 || n > 3 * (int64_t)s->token_max || n > (int64_t)sizeof folded) return 0;
    if (!t->token_start[p[0]] && p[0] != 0xE2) return 0;
    for (int64_t i = 0; i < n; i++) {
        uint8_t c = p[i];
        if (c == 0xE2 && i + 2 < n && p[i + 1] == 0x84 && p[i + 2] == 0xAA) { folded[m++] = 'k'; i += 2; continue; }
        if (c >= 0x80) return 0;
        folded[m++] = (c >= 'A' && c <= 'Z') ? (uint8_t)(c + 32) : c;
    }
    const uint8_t *token = s->tokens;
    for (int32_t k = 0; k < s->token_count; token += t->token_length[k] + 1, k++) {
        if (t->token_length[k] == m && memcmp(token, folded, (size_t)m) == 0) return 1;
    }
    return 0;
}

/* Row `row` of `a` is valid or NULL (rows are marked in order, so each bitmap byte is cleared first). */
static void mark(cl_strings *a, int64_t row, int valid) {
    if ((row & 7) == 0) a->valid[row >> 3] = 0;
    if (valid) a->valid[row >> 3] |= (uint8_t)(1u << (row & 7)); else a->nulls++;
}

/* A control character at p: C0 or DEL, or C1 (U+0080-U+009F, as Latin-1 reads Windows-1252's
 * undefined bytes), other than those str.isspace() accepts (space_length sees those first). */
static inline int control_at(const uint8_t *p, const uint8_t *end) {
    return p[0] < 0x20 || p[0] == 0x7F || (p[0] == 0xC2 && p + 1 < end && p[1] >= 0x80 && p[1] <= 0x9F);
}

/* U+FFFD REPLACEMENT CHARACTER at p (EF BF BD). */
static inline int replacement_at(const uint8_t *p, const uint8_t *end) {
    return p[0] == 0xEF && p + 2 < end && p[1] == 0xBF && p[2] == 0xBD;
}

/* Write the present form of cell [p, p + n) as row `row` of `out`; returns the record flags the
 * cell calls for, FLAG_CONTROL and FLAG_UNREADABLE (the rows' checks quarantine them). */
static int prepare_cell(const cl_split *s, const cl_tables *t, cl_strings *out, int64_t row,
                        const uint8_t *p, int64_t n) {
    const uint8_t *end = p + n, *q = p;
    int flags = 0;
    if (n == 0) {  /* an empty cell is no value by itself */
        mark(out, row, 0);
        out->offsets[row + 1] = (int32_t)out->used;
        return 0;
    }
    /* Most cells stand as they are: printable ASCII with single ' ' between words. */
    if (plain(*q)) {
        for (q++;;) {
            while (q < end && plain(*q)) q++;
            if (q < end && *q == ' ' && q + 1 < end && plain(q[1])) { q += 2; continue; }
            break;
        }
    }
    const uint8_t *text = p;
    int64_t kept = n;
    int changed = 0;
    if (q < end) {  /* from q on, spaces are dropped or collapsed; what came before is kept */
        uint8_t *start = out->data + out->used, *dst = start + (q - p);
        int pending_space = 0;
        memcpy(start, p, (size_t)(q - p));
        while (q < end) {
            int len = plain(*q) ? 0 : space_length(q, end);
            if (len) {
                pending_space = 1;
                q += len;
                continue;
            }
            if (pending_space && dst != start) *dst++ = ' ';
            pending_space = 0;
            if (control_at(q, end)) flags |= FLAG_CONTROL;
            if (replacement_at(q, end)) flags |= FLAG_UNREADABLE;
            *dst++ = *q++;
        }
        kept = dst - start;
        changed = kept != n || memcmp(start, p, (size_t)n) != 0;  /* e.g. non-ASCII letters only */
        text = start;
    }
    if (kept == 0 || is_token(s, t, text, kept)) {
        mark(out, row, 1);  /* '': no value */
    } else if (changed) {
        mark(out, row, 1);
        out->used += kept;
    } else {
        mark(out, row, 0);  /* the cell as it is */
    }
    out->offsets[row + 1] = (int32_t)out->used;
    return flags;
}

/* Commit record `row`: cells, present forms, raw text, line, field count and flags (`record_flags`,
 * what the parse found, and what its cells hold). `newlines`: the lines it takes. */
static void commit_record(cl_split *s, const cl_tables *t, const uint8_t *record, const uint8_t *text_end,
                          int32_t fields, int quoted, int64_t newlines, int record_flags) {
    const int64_t row = s->records;
    int flags = 0;
    for (int32_t j = 0; j < s->width; j++) {
        cl_strings *cells = &s->cells[j];
        mark(cells, row, j < fields);
        cells->offsets[row + 1] = (int32_t)cells->used;
        if (!s->prepare[j]) continue;
        cl_strings *present = &s->present[j];
        if (j < fields) {
            int64_t start = cells->offsets[row];
            flags |= prepare_cell(s, t, present, row, cells->data + start, cells->used - start);
        } else {
            mark(present, row, 0);
            present->offsets[row + 1] = (int32_t)present->used;
        }
    }
    cl_strings *raw = &s->raw_line;
    int keep_text = quoted || fields != s->width;
    if (keep_text) {
        const uint8_t *stop = text_end;  /* the text without the line ends after it */
        while (stop > record && (stop[-1] == '\n' || stop[-1] == '\r')) stop--;
        memcpy(raw->data + raw->used, record, (size_t)(stop - record));
        raw->used += stop - record;
    }
    mark(raw, row, keep_text);
    raw->offsets[row + 1] = (int32_t)raw->used;
    s->lines[row] = s->line;
    s->field_counts[row] = fields;
    s->flags[row] = (int8_t)(flags | record_flags);
    s->records++;
    s->line += newlines;
}

static const uint8_t *parse_record(cl_split *s, const cl_tables *t, const uint8_t *p, const uint8_t *end,
                                   int at_end, int cut);

/* The record at `record` has a quote at `open` that does not close: drop what was written of the
 * record, and parse it up to the end of the quote's line (flagged), as if the input ended there.
 * Returns where the next line starts. */
static const uint8_t *cut_record(cl_split *s, const cl_tables *t, const uint8_t *record, const uint8_t *open,
                                 const uint8_t *end) {
    for (int32_t j = 0; j < s->width; j++) s->cells[j].used = s->cells[j].offsets[s->records];
    const uint8_t *line_end = memchr(open, '\n', (size_t)(end - open));
    const uint8_t *stop = line_end ? line_end : end;
    if (stop > record && stop[-1] == '\r') stop--;
    parse_record(s, t, record, stop, 1, 1);  /* the quote is open at its end: one record, committed */
    if (!line_end) return end;
    s->line++;  /* the line end after it */
    return line_end + 1;
}

/* Parse one record starting at p; returns where the next record starts, or NULL when the input
 * ends before the record does (the caller drops what was written then). `at_end`: the input
 * ends here, so an unfinished record ends too; a quote open then is cut (cut_record). `cut`:
 * this is the part of a cut record up to its quote's line end, where the open quote ends. */
static const uint8_t *parse_record(cl_split *s, const cl_tables *t, const uint8_t *p, const uint8_t *end,
                                   int at_end, int cut) {
    const uint8_t *special = t->special;
    const int32_t width = s->width;
    const uint8_t *record = p, *text_end = end, *next = end;
    /* how far a quoted field may reach: past it, the quote is a stray one (cut_record) */
    const uint8_t *reach = s->max_quote_bytes && end - p > s->max_quote_bytes ? p + s->max_quote_bytes : end;
    int32_t field = 0;
    int quoted = 0;
    int64_t newlines = 0;
    uint8_t *dst = width > 0 ? s->cells[0].data + s->cells[0].used : NULL;

/* a cell's bytes go to its column; fields past the width are only counted */
#define PUT(from, count) do { if (field < width) { memcpy(dst, (from), (size_t)(count)); dst += (count); } } while (0)

    for (;;) {  /* one field per turn */
        if (p < end && *p == '"') {  /* a quoted start: up to the closing quote, "" is a quote */
            const uint8_t *open = p;
            quoted = 1;
            p++;
            for (;;) {
                const uint8_t *run = p;
                while (p < reach && *p != '"') newlines += *p++ == '\n';
                PUT(run, p - run);
                if (p == reach) {  /* the quote is still open */
                    if (cut) goto input_ended;
                    if (p < end || at_end) return cut_record(s, t, record, open, end);
                    return NULL;  /* the next buffer may close it */
                }
                if (++p == end && !at_end) return NULL;  /* is the quote doubled? the next byte says */
                if (p < end && *p == '"') { PUT(p, 1); p++; continue; }
                break;
            }
        }
        uint8_t c = 0;
        for (;;) {  /* unquoted: to the delimiter or the line end; quotes are plain characters */
            const uint8_t *run = p;
            while (p < end && !special[*p]) p++;
            PUT(run, p - run);
            if (p == end) goto input_ended;
            c = *p;
            if (c == '"') { quoted = 1; PUT(p, 1); p++; continue; }
            if (c == '\r') {
                if (p + 1 == end) { if (!at_end) return NULL; PUT(p, 1); p++; continue; }
                if (p[1] != '\n') { PUT(p, 1); p++; continue; }  /* a lone '\r' */
            }
            break;
        }
        if (field < width) s->cells[field].used = dst - s->cells[field].data;
        if (c == s->delimiter) {
            p++;
            if (++field < width) dst = s->cells[field].data + s->cells[field].used;
            continue;
        }
        text_end = p;  /* the line end: "\n" or "\r\n" */
        next = p + (c == '\r' ? 2 : 1);
        newlines++;
        goto record_ended;
    }
input_ended:
    if (!at_end) return NULL;
    if (field < width) s->cells[field].used = dst - s->cells[field].data;
record_ended:
#undef PUT
    /* A line of spaces only is a blank line, tab delimiters included (a quote is not a space). */
    if (!quoted && only_spaces(record, text_end)) {
        for (int32_t j = 0; j < width; j++) s->cells[j].used = s->cells[j].offsets[s->records];
        s->blank_lines++;
        s->line += newlines;
        return next;
    }
    const int line_end = text_end < end;  /* without one, text_end stayed at the input's end */
    commit_record(s, t, record, text_end, field + 1, quoted, newlines,
                  (cut ? FLAG_OPEN_QUOTE : 0) | (newlines > line_end ? FLAG_LINE_BREAK : 0));
    return next;
}

/* Split the whole records in [buf, buf + len); returns the bytes consumed (up to the end of the
 * last whole record, or all of them when `final`: the last record may then lack its line end). */
int64_t cl_split_records(const uint8_t *buf, int64_t len, int final, cl_split *s) {
    const uint8_t *p = buf, *end = buf + len;
    cl_tables t;
    memset(&t, 0, sizeof t);
    t.special[s->delimiter] = t.special['"'] = t.special['\n'] = t.special['\r'] = 1;
    const uint8_t *token = s->tokens;
    for (int32_t k = 0; k < s->token_count && k < 64; k++) {
        t.token_length[k] = (int32_t)strlen((const char *)token);
        t.token_start[token[0]] = 1;
        if (token[0] >= 'a' && token[0] <= 'z') t.token_start[token[0] - 32] = 1;
        token += t.token_length[k] + 1;
    }
    if (s->records == 0) {  /* fresh output arrays */
        s->raw_line.offsets[0] = 0;
        for (int32_t j = 0; j < s->width; j++) {
            s->cells[j].offsets[0] = 0;
            if (s->prepare[j]) s->present[j].offsets[0] = 0;
        }
    }
    while (p < end && (s->max_records == 0 || s->records < s->max_records)) {
        const uint8_t *next = parse_record(s, &t, p, end, 0, 0);
        if (next == NULL) {  /* an unfinished record: nothing of it was kept */
            for (int32_t j = 0; j < s->width; j++) s->cells[j].used = s->cells[j].offsets[s->records];
            break;
        }
        p = next;
    }
    if (final && p < end && (s->max_records == 0 || s->records < s->max_records)) {
        /* What is left is one last record without its line end, or a record whose quote does
         * not close and the lines after it (cut_record). Line ends at the very end of the input
         * are not part of it (csv reads a last line without them). */
        const uint8_t *stop = end;
        while (stop > p && (stop[-1] == '\n' || stop[-1] == '\r')) stop--;
        if (stop == p) s->blank_lines++;  /* a last line of line ends only ("\r") */
        while (p < stop && (s->max_records == 0 || s->records < s->max_records))
            p = parse_record(s, &t, p, stop, 1, 0);
        p = end;
    }
    return p - buf;
}
