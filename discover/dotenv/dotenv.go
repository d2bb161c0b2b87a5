// Package dotenv parses .env files, keeping the order of entries, their
// line numbers, quoting, `export` prefixes and inline comments, which a
// map-returning loader throws away.
//
// # Value semantics
//
// Values follow github.com/joho/godotenv v1.5.1 (the loader most Go
// services use), checked by a differential test and a fuzz target:
//
//   - CRLF line ends are read as LF; a UTF-8 byte order mark is skipped.
//   - Lines whose first non-blank character is '#' are comments.
//   - A statement is [export ]KEY=VALUE (or KEY: VALUE). Blanks around the
//     key and after the separator are ignored.
//   - Unquoted values end at the end of the line; a '#' preceded by a blank
//     starts an inline comment (the last such '#' on the line, as godotenv
//     does); surrounding blanks are trimmed. `KEY= # x` therefore has the
//     value "# x", exactly as in godotenv.
//   - 'single' quoted values are literal. "double" quoted values turn \n and
//     \r into newline and carriage return and drop the backslash of any
//     other escape (\" -> "), except \$ which stays for variable expansion.
//     A quote preceded by a backslash never closes a value, and quoted
//     values may span lines.
//
// Differences from godotenv, all deliberate:
//
//   - No variable expansion. Entry.Value is the value godotenv computes
//     before expanding $VAR and ${VAR}: references (and \$) appear as
//     written, so a value built from another secret is not mistaken for a
//     copy of it. Expand applies godotenv's expansion when the loaded value
//     is wanted.
//   - `backtick` quoted values are accepted (literal, like single quotes,
//     as Node's dotenv reads them); godotenv keeps the backticks as text.
//   - Input godotenv accepts in surprising ways is an error here: keys with
//     characters other than ASCII letters, digits, '_' and '.', blanks
//     inside a key, a line with no '=', text after a closing quote other
//     than a comment, NUL bytes and invalid UTF-8.
//
// Errors name the line and never include any part of the file's text,
// since that text may be a secret.
package dotenv

import (
	"bytes"
	"fmt"
	"io"
	"strings"
	"unicode"
	"unicode/utf8"

	"github.com/env2vault/env2vault/secret"
)

// Entry is one KEY=VALUE statement.
type Entry struct {
	// Key is the variable name.
	Key string
	// Value is the value before variable expansion (see the package doc).
	Value secret.Value
	// Line is the 1-based line of the key; EndLine is the line the value
	// ends on (greater than Line for multi-line quoted values).
	Line, EndLine int
	// Column is the 1-based byte column of the key (or of `export`).
	Column int
	// Export reports an `export ` prefix.
	Export bool
	// Quote is the quote character around the value: 0, '\'', '"' or '`'.
	Quote rune
	// Comment is the inline comment after the value, without the '#' and
	// surrounding blanks; empty when there is none.
	Comment string
	// Start and End are byte offsets in the parsed input of the statement:
	// from `export` or the key up to the end of the value (closing quote
	// included, inline comment and line end excluded).
	Start, End int
	// ValueStart and ValueEnd are byte offsets of the value as written,
	// quotes included.
	ValueStart, ValueEnd int
}

// Error is a parse error. It names a line and a reason, never the text.
type Error struct {
	Line int
	Msg  string
}

func (e *Error) Error() string { return fmt.Sprintf("line %d: %s", e.Line, e.Msg) }

// Parse reads r to the end and parses it. On error it returns the
// entries before the bad statement along with the error.
func Parse(r io.Reader) ([]Entry, error) {
	b, err := io.ReadAll(r)
	if err != nil {
		return nil, err
	}
	return ParseBytes(b)
}

// ParseBytes parses src. Offsets in the entries index src. On error it
// returns the entries before the bad statement along with the error.
func ParseBytes(src []byte) ([]Entry, error) {
	p := &parser{src: src}
	if bytes.HasPrefix(src, bom) {
		p.pos = len(bom)
	}
	if err := p.validate(); err != nil {
		return nil, err
	}
	var out []Entry
	for {
		e, ok, err := p.next()
		if err != nil {
			return out, err
		}
		if !ok {
			return out, nil
		}
		out = append(out, e)
	}
}

var bom = []byte("\xef\xbb\xbf")

type parser struct {
	src []byte
	pos int
	// lineOff and line cache the last lineAt answer: offsets mostly grow,
	// so counting resumes from there and a big file stays linear.
	lineOff, line int
}

// lineAt returns the 1-based line number of byte offset off.
func (p *parser) lineAt(off int) int {
	if p.line == 0 || off < p.lineOff {
		p.lineOff, p.line = 0, 1
	}
	p.line += bytes.Count(p.src[p.lineOff:off], []byte{'\n'})
	p.lineOff = off
	return p.line
}

func (p *parser) errorf(off int, msg string) error {
	return &Error{Line: p.lineAt(off), Msg: msg}
}

func (p *parser) validate() error {
	for i := p.pos; i < len(p.src); {
		c := p.src[i]
		if c == 0 {
			return p.errorf(i, "NUL byte: not a text file")
		}
		if c < utf8.RuneSelf {
			i++
			continue
		}
		r, n := utf8.DecodeRune(p.src[i:])
		if r == utf8.RuneError && n <= 1 {
			return p.errorf(i, "invalid UTF-8")
		}
		i += n
	}
	return nil
}

// isBlank reports the characters godotenv trims around keys and values:
// blanks that do not end a line.
func isBlank(r rune) bool {
	switch r {
	case '\t', '\v', '\f', '\r', ' ', 0x85, 0xA0:
		return true
	}
	return false
}

// skipFunc advances from off while f holds for each rune.
func (p *parser) skipFunc(off int, f func(rune) bool) int {
	for off < len(p.src) {
		r, n := utf8.DecodeRune(p.src[off:])
		if !f(r) {
			break
		}
		off += n
	}
	return off
}

func isKeyByte(c byte) bool {
	return c == '_' || c == '.' || ('0' <= c && c <= '9') || ('a' <= c && c <= 'z') || ('A' <= c && c <= 'Z')
}

// next parses the next statement; ok is false at the end of input.
func (p *parser) next() (e Entry, ok bool, err error) {
	// Skip blank lines and comments.
	for {
		p.pos = p.skipFunc(p.pos, unicode.IsSpace)
		if p.pos >= len(p.src) {
			return e, false, nil
		}
		if p.src[p.pos] != '#' {
			break
		}
		nl := bytes.IndexByte(p.src[p.pos:], '\n')
		if nl < 0 {
			p.pos = len(p.src)
			return e, false, nil
		}
		p.pos += nl
	}
	start := p.pos
	e.Start = start
	e.Line = p.lineAt(start)
	lineStart := bytes.LastIndexByte(p.src[:start], '\n') + 1
	e.Column = start - lineStart + 1

	// export prefix: godotenv strips it only when a blank follows.
	off := start
	if bytes.HasPrefix(p.src[off:], []byte("export")) {
		after := off + len("export")
		if r, _ := utf8.DecodeRune(p.src[after:]); after < len(p.src) && isBlank(r) {
			e.Export = true
			off = p.skipFunc(after, isBlank)
		}
	}

	// Key.
	keyStart := off
	for off < len(p.src) && isKeyByte(p.src[off]) {
		off++
	}
	keyEnd := off
	off = p.skipFunc(off, func(r rune) bool { return r == ' ' || r == '\t' })
	switch {
	case off >= len(p.src):
		return e, false, p.errorf(start, "expected KEY=VALUE, found no '='")
	case p.src[off] == '=' || p.src[off] == ':':
	case p.src[off] == '\n' || p.src[off] == '\r':
		return e, false, p.errorf(start, "expected KEY=VALUE, found no '='")
	case keyEnd < off && isKeyByte(p.src[off]):
		return e, false, p.errorf(start, "blank inside a variable name")
	default:
		return e, false, p.errorf(start, "variable names may hold only letters, digits, '_' and '.'")
	}
	if keyEnd == keyStart {
		return e, false, p.errorf(start, "missing variable name before '='")
	}
	e.Key = string(p.src[keyStart:keyEnd])
	off++ // separator
	afterSep := off

	// Value.
	off = p.skipFunc(off, isBlank)
	e.ValueStart = off
	if off >= len(p.src) {
		e.Value, e.ValueStart, e.End, e.ValueEnd, e.EndLine = secret.New(""), afterSep, afterSep, afterSep, e.Line
		p.pos = off
		return e, true, nil
	}
	switch q := p.src[off]; q {
	case '"', '\'', '`':
		return p.quoted(e, off, q)
	default:
		return p.unquoted(e, off, afterSep)
	}
}

func (p *parser) unquoted(e Entry, off, afterSep int) (Entry, bool, error) {
	eol := off
	for eol < len(p.src) && p.src[eol] != '\n' && p.src[eol] != '\r' {
		eol++
	}
	line := p.src[off:eol]
	end := len(line)
	// The last '#' that follows a blank starts a comment.
	for i := len(line) - 1; i > 0; i-- {
		if line[i] != '#' {
			continue
		}
		if r, _ := utf8.DecodeLastRune(line[:i]); isBlank(r) {
			e.Comment = strings.TrimFunc(string(line[i+1:]), isBlank)
			end = i
			break
		}
	}
	val := bytes.TrimFunc(line[:end], isBlank)
	e.Value = secret.New(string(val))
	e.ValueEnd = off + len(bytes.TrimRightFunc(line[:end], isBlank))
	if len(val) == 0 {
		e.ValueStart, e.ValueEnd = afterSep, afterSep
	}
	e.End = e.ValueEnd
	e.EndLine = e.Line
	p.pos = eol
	return e, true, nil
}

var quoteNames = map[byte]string{'"': "double quote", '\'': "single quote", '`': "backtick"}

func (p *parser) quoted(e Entry, off int, q byte) (Entry, bool, error) {
	closing := -1
	for i := off + 1; i < len(p.src); i++ {
		if p.src[i] != q {
			continue
		}
		if q != '`' && p.src[i-1] == '\\' {
			continue // godotenv: a quote after a backslash never closes
		}
		closing = i
		break
	}
	if closing < 0 {
		return e, false, p.errorf(e.Start, "unterminated "+quoteNames[q])
	}
	inner := p.src[off+1 : closing]
	if q != '`' {
		inner = bytes.TrimRight(inner, string(q))
	}
	val := strings.ReplaceAll(string(inner), "\r\n", "\n")
	if q == '"' {
		val = unescape(val)
	}
	e.Quote = rune(q)
	e.Value = secret.New(val)
	e.ValueEnd = closing + 1
	e.End = closing + 1
	e.EndLine = p.lineAt(closing)

	// Only blanks or a comment may follow on the line.
	off = p.skipFunc(closing+1, isBlank)
	if off < len(p.src) && p.src[off] != '\n' {
		if p.src[off] != '#' {
			return e, false, p.errorf(closing, "unexpected text after the closing "+quoteNames[q])
		}
		eol := bytes.IndexByte(p.src[off:], '\n')
		if eol < 0 {
			eol = len(p.src) - off
		}
		e.Comment = strings.TrimFunc(string(p.src[off+1:off+eol]), isBlank)
		off += eol
	}
	p.pos = off
	return e, true, nil
}

// unescape applies godotenv's double-quote escapes: \n and \r become
// newline and carriage return, \$ stays (for expansion), and any other
// backslash is dropped before the character it escapes.
func unescape(s string) string {
	if !strings.Contains(s, `\`) {
		return s
	}
	var b strings.Builder
	b.Grow(len(s))
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c != '\\' || i+1 == len(s) {
			b.WriteByte(c)
			continue
		}
		switch n := s[i+1]; n {
		case 'n':
			b.WriteByte('\n')
		case 'r':
			b.WriteByte('\r')
		case '$':
			b.WriteString(`\$`)
		default:
			b.WriteByte(n)
		}
		i++
	}
	return b.String()
}

// Expand returns a copy of entries with godotenv's variable expansion
// applied to unquoted and double-quoted values, in file order: $NAME,
// ${NAME} (NAME of A-Z, 0-9, _) become the value of an earlier entry in
// the same file, or empty; \$ becomes $. The environment is not
// consulted, exactly as in godotenv.
func Expand(entries []Entry) []Entry {
	vars := make(map[string]string, len(entries))
	out := make([]Entry, len(entries))
	for i, e := range entries {
		v := e.Value.Reveal()
		if e.Quote == 0 || e.Quote == '"' {
			v = expandVars(v, vars)
			e.Value = secret.New(v)
		}
		vars[e.Key] = v
		out[i] = e
	}
	return out
}

// References reports whether the value refers to other variables
// ($NAME or ${NAME}) that Expand would substitute.
func (e Entry) References() bool {
	if e.Quote == '\'' || e.Quote == '`' {
		return false
	}
	v := e.Value.Reveal()
	for i := 0; i+1 < len(v); i++ {
		if v[i] != '$' || (i > 0 && v[i-1] == '\\') {
			continue
		}
		j := i + 1
		if v[j] == '{' {
			j++
		}
		if j < len(v) && isNameByte(v[j]) {
			return true
		}
	}
	return false
}

func isNameByte(c byte) bool {
	return c == '_' || ('0' <= c && c <= '9') || ('A' <= c && c <= 'Z')
}

// expandVars mirrors godotenv's expansion grammar: an optional backslash,
// '$', an optional '(', an optional '{', an optional NAME, an optional
// '}'. Escaped matches lose their backslash; a
// match with a NAME becomes that variable's value; others stay as they are.
func expandVars(s string, vars map[string]string) string {
	if !strings.Contains(s, "$") {
		return s
	}
	var b strings.Builder
	for i := 0; i < len(s); {
		escaped := false
		j := i
		switch {
		case s[i] == '\\' && i+1 < len(s) && s[i+1] == '$':
			escaped = true
			j = i + 2
		case s[i] == '$':
			j = i + 1
		default:
			b.WriteByte(s[i])
			i++
			continue
		}
		// godotenv's pattern allows a '(' here, and its special case for
		// it never fires: "$(" stays as written unless a NAME follows.
		if j < len(s) && s[j] == '(' {
			j++
		}
		if j < len(s) && s[j] == '{' {
			j++
		}
		nameStart := j
		for j < len(s) && isNameByte(s[j]) {
			j++
		}
		name := s[nameStart:j]
		if j < len(s) && s[j] == '}' {
			j++
		}
		switch {
		case escaped:
			b.WriteString(s[i+1 : j])
		case name != "":
			b.WriteString(vars[name])
		default:
			b.WriteString(s[i:j])
		}
		i = j
	}
	return b.String()
}
