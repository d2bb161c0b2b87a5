package detect

import (
	"encoding/base64"
	"encoding/hex"
	"io/fs"
	"net/url"
	"path/filepath"
	"runtime"
	"sort"
	"strconv"
	"strings"
	"testing"

	"github.com/zricethezav/gitleaks/v8/detect/codec"
)

func TestAnalyze(t *testing.T) {
	tests := []struct {
		expr     string
		keywords []string
		anchored bool
		before   bound
		after    bound
		inner    int
	}{
		{`\b(ghp_[0-9a-zA-Z]{36})\b`, []string{"ghp_"}, true, bound{0, 0}, bound{0, 36}, -1},
		{`(?i)[\w.-]{0,5}?(?:key|token)[ \t]{0,2}[\s'"]{0,1}=([a-z]{10,12})`, []string{"key", "token"}, true,
			bound{0, 5}, bound{1, 16}, 5 + 5 + 2 + 1},
		// The keyword straddles two elements: [Aa]pi.
		{`(?-i:[Aa]pi)_key=x`, []string{"api"}, true, bound{0, 0}, bound{0, 6}, -1},
		// A keyword in every branch of an alternation.
		{`(?:AKIA|ASIA)[A-Z2-7]{16}`, []string{"akia", "asia"}, true, bound{0, 0}, bound{0, 16}, -1},
		// The match need not contain the keyword: "." matches anything.
		{`hooks.slack.com/[a-z]+`, []string{"hooks.slack.com"}, false, bound{}, bound{}, 0},
		// No keyword in an optional part.
		{`(?:key)?[a-z]{10}`, []string{"key"}, false, bound{}, bound{}, 0},
		// Unbounded newlines after the keyword.
		{`-----BEGIN[\s\S]*?-----END`, []string{"-----begin"}, true, bound{0, 0}, bound{unbounded, unbounded}, unbounded},
		// A final newline does not count as inner.
		{`tok=[a-z]+\n`, []string{"tok"}, true, bound{0, 0}, bound{1, unbounded}, -1},
	}
	for _, tt := range tests {
		r := analyze(tt.expr, tt.keywords)
		if r.anchored != tt.anchored {
			t.Errorf("%s: anchored = %v", tt.expr, r.anchored)
			continue
		}
		if !tt.anchored {
			continue
		}
		if r.before != tt.before || r.after != tt.after || r.inner != tt.inner {
			t.Errorf("%s: before %+v after %+v inner %d, want %+v %+v %d", tt.expr, r.before, r.after, r.inner, tt.before, tt.after, tt.inner)
		}
	}
}

// TestKeywordSuffixes checks the per-keyword suffix filters on two of
// gitleaks' own rules.
func TestKeywordSuffixes(t *testing.T) {
	e, err := defaultEngine()
	if err != nil {
		t.Fatal(err)
	}
	rule := func(id string) *crule {
		for _, r := range e.rules {
			if r.RuleID == id {
				return r
			}
		}
		t.Fatalf("no rule %s", id)
		return nil
	}
	tests := []struct {
		rule, text, kw string
		viable         bool
	}{
		{"generic-api-key", `api_key = "` + tail(1, 20, alnum) + `"`, "key", true},
		{"generic-api-key", "keys []string", "key", false},
		{"generic-api-key", "m[key] = v", "key", false},
		{"generic-api-key", "token:\n  " + tail(2, 20, alnum) + "\n", "token", true},
		{"curl-auth-user", "curl -u user:" + tail(3, 10, alnum) + " https://x", "curl", true},
		{"curl-auth-user", "curlyvee", "curl", false},
		{"vault-service-token", "s.foo()", "s.", false},
		{"vault-service-token", "s." + tail(4, 24, alnum) + "\n", "s.", true},
	}
	for _, tt := range tests {
		r := rule(tt.rule)
		if r.suffix == nil {
			t.Fatalf("%s has no suffix filters", tt.rule)
		}
		kw := -1
		for i, k := range e.ac.keywords {
			if k == tt.kw {
				kw = i
			}
		}
		at := strings.Index(tt.text, tt.kw)
		p := pass{cur: tt.text}
		h := acHit{end: int32(at + len(tt.kw)), kw: int32(kw)}
		if got := r.viable(p, h); got != tt.viable {
			t.Errorf("%s on %q: viable = %v", tt.rule, tt.text, got)
		}
	}
}

func TestACMachine(t *testing.T) {
	m := newACMachine([]string{"key", "api_key", "ey", "s.", "token"})
	hits := m.find("API_KEY=1 Token s.x KEY", nil)
	var got []string
	for _, h := range hits {
		got = append(got, m.keywords[h.kw]+"@"+itoa(int(h.end)))
	}
	sort.Strings(got)
	want := []string{"api_key@7", "ey@23", "ey@7", "key@23", "key@7", "s.@18", "token@15"}
	if strings.Join(got, " ") != strings.Join(want, " ") {
		t.Errorf("hits = %v, want %v", got, want)
	}
}

func itoa(i int) string {
	if i < 10 {
		return string(rune('0' + i))
	}
	return itoa(i/10) + string(rune('0'+i%10))
}

func TestMaybeEncoded(t *testing.T) {
	tests := []struct {
		line string
		want bool
	}{
		{"plain text with words", false},
		{`fmt.Sprintf("%02x", b)`, false},           // %02 decodes to a control byte
		{`u := "a%20b"`, true},                      // %20 is a space
		{`s := "\u00e9"`, true},                     // unicode escape
		{"see U+1F600 here", true},                  // code point
		{"TestSomethingVeryLongName", false},        // no base64 hint characters
		{"c2VjcmV0X3Rva2VuPWFiYw==", true},          // base64 of printable text
		{"0123456789abcdef0123456789abcdef", false}, // hex of non-printable bytes
		{"736563726574746f6b656e3d61626331", true},  // hex of printable text
	}
	for _, tt := range tests {
		if got := maybeEncoded(tt.line); got != tt.want {
			t.Errorf("maybeEncoded(%q) = %v, want %v", tt.line, got, tt.want)
		}
	}
}

// TestMaybeEncodedSound checks the prefilter's promise: every line in
// which gitleaks' decoder finds an encoded segment is a candidate.
func TestMaybeEncodedSound(t *testing.T) {
	var lines []string
	for _, c := range trickyFiles() {
		lines = append(lines, strings.Split(c, "\n")...)
	}
	// Encodings of printable text, alone and inside code.
	for i := 0; i < 300; i++ {
		plain := tail(i, 8+i%40, alnum+" =:_-+/.")
		enc := []string{
			base64.StdEncoding.EncodeToString([]byte(plain)),
			base64.RawURLEncoding.EncodeToString([]byte(plain)),
			hex.EncodeToString([]byte(plain)),
			url.QueryEscape(plain),
			strings.ReplaceAll(strconv.QuoteToASCII(plain+"\u00e9"), `"`, ""),
		}
		for _, x := range enc {
			lines = append(lines, x, "v = \""+x+"\"", "a/"+x+"/b", "U+0041 U+0042 "+x)
		}
	}
	if !testing.Short() {
		root := filepath.Join(runtime.GOROOT(), "src", "encoding")
		_ = filepath.WalkDir(root, func(p string, e fs.DirEntry, err error) error {
			if err == nil && e.Type().IsRegular() {
				if b, ok := readText(p); ok {
					lines = append(lines, strings.Split(string(b), "\n")...)
				}
			}
			return nil
		})
	}
	n := 0
	for _, l := range lines {
		if _, segs := codec.NewDecoder().Decode(l, nil); len(segs) > 0 {
			n++
			if !maybeEncoded(l) {
				t.Errorf("decoder finds a segment in %q, the prefilter says no", l)
			}
		}
	}
	if n < 100 {
		t.Fatalf("only %d lines with segments: the test proves little", n)
	}
	t.Logf("%d lines, %d with segments", len(lines), n)
}
