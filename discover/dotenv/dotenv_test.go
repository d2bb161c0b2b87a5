package dotenv

import (
	"errors"
	"regexp"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/joho/godotenv"
)

// differential lists inputs whose values must equal godotenv's (after
// Expand). Inputs godotenv reads differently on purpose are in
// TestDivergences.
var differential = []string{
	"",
	"\n\n",
	"# only a comment",
	"A=1",
	"A=1\nB=2\n",
	"A=1\r\nB=2\r\n",
	"export A=1",
	"export\tA=1",
	"exportA=1",
	"A = spaced value  ",
	"A: yaml style",
	"A=",
	"A=\nB=x",
	"A=value # comment",
	"A=value#not-a-comment",
	"A=a #b #c",
	"A= # only comment",
	"A=#hash",
	`A="double"`,
	`A='single'`,
	`A="with \"escaped\" quotes"`,
	`A='it\'s'`,
	`A="line1\nline2\rend"`,
	`A="back\\slash"`,
	`A="tab\tx"`,
	`A="unicode ✓ é"`,
	"A=unicode ✓ é",
	"A=\"multi\nline\nvalue\"\nB=after",
	"A=\"multi\r\nline\"\r\nB=after",
	"A='multi\nline'",
	`A="quoted" # comment`,
	`A='quoted'   # comment`,
	`A="abc\""`,
	`A="\""`,
	`A=""`,
	`A=''`,
	`A="'inner'"`,
	`A='"inner"'`,
	"A=1\nB=$A\nC=${A}-x\nD=\"${B}\"\nE='${A}'",
	"A=1\nB=\\$A\nC=\"\\$A\"",
	"B=${MISSING}end",
	"A=$lower",
	"A=$(cmd)",
	"A=${",
	"A=$",
	"A=x\nA=y\nB=$A",
	"  A=indented",
	"\tA=tabbed\n\t# indented comment\n",
	"A.B=dots",
	"_A1=under",
	"1A=digit-first",
	"A=with 'inner' \"quotes\"",
	"A=trailing\\",
	"A=\"ends with backslash\\\\x\"",
	"URL=postgres://u:p@h:5432/db?sslmode=disable",
	"KEY=sk_test_abc123",
	"A=\u00a0nbsp\u00a0",
	"A=value\u00a0#comment",
	"A=1\rB=2",
	"\n# c1\nA=1 # c2\n\n# c3\nB=\"2\" # c4\n",
}

func parseMap(t testing.TB, in string) map[string]string {
	t.Helper()
	entries, err := ParseBytes([]byte(in))
	if err != nil {
		t.Fatalf("Parse(%q): %v", in, err)
	}
	m := map[string]string{}
	for _, e := range Expand(entries) {
		m[e.Key] = e.Value.Reveal()
	}
	return m
}

func TestDifferentialGodotenv(t *testing.T) {
	for _, in := range differential {
		want, err := godotenv.Unmarshal(in)
		if err != nil {
			t.Fatalf("godotenv rejects table input %q: %v", in, err)
		}
		got := parseMap(t, in)
		if d := cmp.Diff(want, got); d != "" {
			t.Errorf("input %q: values differ from godotenv (-godotenv +ours):\n%s", in, d)
		}
	}
}

// TestDivergences pins the documented differences from godotenv.
func TestDivergences(t *testing.T) {
	t.Run("no expansion in Value", func(t *testing.T) {
		e, err := ParseBytes([]byte("A=1\nB=${A}x\nC=\"\\$A\""))
		if err != nil {
			t.Fatal(err)
		}
		if got := e[1].Value.Reveal(); got != "${A}x" {
			t.Errorf("B = %q, want ${A}x", got)
		}
		if !e[1].References() || e[0].References() || e[2].References() {
			t.Errorf("References: got %v %v %v, want false true false", e[0].References(), e[1].References(), e[2].References())
		}
		if got := e[2].Value.Reveal(); got != `\$A` {
			t.Errorf("C = %q, want \\$A", got)
		}
	})
	t.Run("backticks", func(t *testing.T) {
		e, err := ParseBytes([]byte("A=`multi\n\"line\" \\n`"))
		if err != nil {
			t.Fatal(err)
		}
		if got := e[0].Value.Reveal(); got != "multi\n\"line\" \\n" || e[0].Quote != '`' || e[0].EndLine != 2 {
			t.Errorf("got %q quote %q endline %d", got, e[0].Quote, e[0].EndLine)
		}
	})
	t.Run("byte order mark", func(t *testing.T) {
		e, err := ParseBytes([]byte("\xef\xbb\xbfA=1"))
		if err != nil || len(e) != 1 || e[0].Key != "A" || e[0].Start != 3 {
			t.Fatalf("got %+v, %v", e, err)
		}
	})
}

func TestEntries(t *testing.T) {
	in := "# header\n" +
		"export STRIPE_KEY='sk_x' # live key\n" +
		"\n" +
		"MULTI=\"a\n" +
		"b\"\n" +
		"EMPTY=\r\n" +
		"PLAIN = v  # note\n"
	got, err := ParseBytes([]byte(in))
	if err != nil {
		t.Fatal(err)
	}
	type row struct {
		Key, Value, Comment string
		Line, EndLine, Col  int
		Export              bool
		Quote               rune
		Raw                 string
	}
	var rows []row
	for _, e := range got {
		rows = append(rows, row{e.Key, e.Value.Reveal(), e.Comment, e.Line, e.EndLine, e.Column, e.Export, e.Quote, in[e.Start:e.End]})
	}
	want := []row{
		{"STRIPE_KEY", "sk_x", "live key", 2, 2, 1, true, '\'', "export STRIPE_KEY='sk_x'"},
		{"MULTI", "a\nb", "", 4, 5, 1, false, '"', "MULTI=\"a\nb\""},
		{"EMPTY", "", "", 6, 6, 1, false, 0, "EMPTY="},
		{"PLAIN", "v", "note", 7, 7, 1, false, 0, "PLAIN = v"},
	}
	if d := cmp.Diff(want, rows); d != "" {
		t.Errorf("entries (-want +got):\n%s", d)
	}
	if in[got[0].ValueStart:got[0].ValueEnd] != "'sk_x'" {
		t.Errorf("value span = %q", in[got[0].ValueStart:got[0].ValueEnd])
	}
}

func TestDuplicatesKeepOrder(t *testing.T) {
	got, err := ParseBytes([]byte("A=1\nB=2\nA=3\n"))
	if err != nil {
		t.Fatal(err)
	}
	var keys []string
	for _, e := range got {
		keys = append(keys, e.Key+"@"+string(rune('0'+e.Line)))
	}
	if d := cmp.Diff([]string{"A@1", "B@2", "A@3"}, keys); d != "" {
		t.Error(d)
	}
}

const canary = "SECRETCANARY"

func TestErrors(t *testing.T) {
	cases := []struct {
		in   string
		want string
		n    int // entries returned before the error
	}{
		{"A=1\nB=2\nC=\"" + canary, "line 3: unterminated double quote", 2},
		{"A='" + canary + "\n", "line 1: unterminated single quote", 0},
		{"A=`" + canary, "line 1: unterminated backtick", 0},
		{"A=1\n" + canary + "\n", "line 2: expected KEY=VALUE, found no '='", 1},
		{canary, "line 1: expected KEY=VALUE, found no '='", 0},
		{"=" + canary, "line 1: missing variable name before '='", 0},
		{"MY KEY=" + canary, "line 1: blank inside a variable name", 0},
		{"KÉY=" + canary, "line 1: variable names may hold only letters, digits, '_' and '.'", 0},
		{"A=\"x\"" + canary, "line 1: unexpected text after the closing double quote", 0},
		{"A=1\nB=" + canary + "\x00", "line 2: NUL byte: not a text file", 0},
		{"A=1\n\nB=" + canary + "\xff", "line 3: invalid UTF-8", 0},
		{"A=\"multi\nline\" " + canary, "line 2: unexpected text after the closing double quote", 0},
	}
	for _, c := range cases {
		got, err := ParseBytes([]byte(c.in))
		var pe *Error
		if !errors.As(err, &pe) {
			t.Errorf("Parse(%q) error = %v, want *Error", c.in, err)
			continue
		}
		if err.Error() != c.want {
			t.Errorf("Parse(%q) error = %q, want %q", c.in, err, c.want)
		}
		if strings.Contains(err.Error(), canary) {
			t.Errorf("error for %q leaks the text", c.in)
		}
		if len(got) != c.n {
			t.Errorf("Parse(%q) returned %d entries, want %d", c.in, len(got), c.n)
		}
	}
}

var errShape = regexp.MustCompile(`^line [0-9]+: [A-Za-z0-9 ,:'=_.-]+$`)

// FuzzParse checks that Parse never panics, that its errors carry no
// input text, and that wherever both parsers accept an input our values
// (after Expand) equal godotenv's.
func FuzzParse(f *testing.F) {
	for _, in := range differential {
		f.Add(in)
	}
	f.Fuzz(func(t *testing.T, in string) {
		entries, err := ParseBytes([]byte(in))
		if err != nil {
			if !errShape.MatchString(err.Error()) {
				t.Fatalf("error %q does not have the fixed shape", err)
			}
			return
		}
		for _, e := range entries {
			if e.Line < 1 || e.EndLine < e.Line || e.Start > e.End || e.End > len(in) {
				t.Fatalf("bad position in %+v", e)
			}
		}
		if strings.Contains(in, "`") || strings.HasPrefix(in, "\xef\xbb\xbf") {
			return // documented divergences
		}
		want, gerr := godotenv.Unmarshal(in)
		if gerr != nil {
			return
		}
		got := map[string]string{}
		for _, e := range Expand(entries) {
			got[e.Key] = e.Value.Reveal()
		}
		if d := cmp.Diff(want, got); d != "" {
			t.Fatalf("values differ from godotenv (-godotenv +ours):\n%s", d)
		}
	})
}

// BenchmarkParseLarge parses a 100,000-line file: line numbering must
// stay linear.
func BenchmarkParseLarge(b *testing.B) {
	var sb strings.Builder
	for i := range 100000 {
		sb.WriteString("KEY_")
		sb.WriteString(strings.Repeat("X", i%7))
		sb.WriteString("=\"value\" # c\n")
	}
	in := []byte(sb.String())
	b.SetBytes(int64(len(in)))
	for b.Loop() {
		e, err := ParseBytes(in)
		if err != nil || len(e) != 100000 || e[99999].Line != 100000 {
			b.Fatalf("%d entries, %v", len(e), err)
		}
	}
}
