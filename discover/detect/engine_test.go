package detect

import (
	"context"
	"encoding/base64"
	"encoding/hex"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"runtime"
	"sort"
	"strings"
	"testing"

	gldetect "github.com/zricethezav/gitleaks/v8/detect"
	"github.com/zricethezav/gitleaks/v8/report"

	"github.com/env2vault/env2vault/internal/sampleorg"
)

// fake builds a provider-shaped test key from parts at run time, so no
// key-shaped literal is ever written in this repository.
func fake(parts ...string) string { return strings.Join(parts, "") }

// tail returns n deterministic pseudo-random characters from charset.
func tail(seed, n int, charset string) string {
	b := make([]byte, n)
	x := uint32(seed*2654435761 + 12345)
	for i := range b {
		x ^= x << 13
		x ^= x >> 17
		x ^= x << 5
		b[i] = charset[int(x)%len(charset)]
	}
	return string(b)
}

const (
	alnum = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789"
	b64ch = alnum + "_-"
	hexch = "0123456789abcdef"
)

// trickyFiles are synthetic files that exercise the engine's edge cases:
// matches at the first and last line, multi-line rules, encoded secrets,
// generic and specific rules on one line, case folding, allow comments.
func trickyFiles() map[string]string {
	stripe := fake("sk", "_live_", tail(1, 32, alnum))
	ghp := fake("gh", "p_", tail(2, 36, alnum))
	slack := fake("xox", "b-", "1234567890", "-", "1234567890123", "-", tail(3, 24, alnum))
	gcp := fake("AI", "za", tail(4, 35, b64ch))
	anth := fake("sk-", "ant-", "api03-", tail(5, 93, b64ch), "AA")
	pemBody := base64.StdEncoding.EncodeToString([]byte(tail(6, 300, alnum)))
	var pem strings.Builder
	for i := 0; i < len(pemBody); i += 64 {
		pem.WriteString(pemBody[i:min(i+64, len(pemBody))] + "\n")
	}
	privKey := fake("-----BEGIN ", "RSA PRIVATE KEY-----\n") + pem.String() + fake("-----END ", "RSA PRIVATE KEY-----\n")
	files := map[string]string{
		"first.go":     fmt.Sprintf("var stripeKey = %q\nfunc f() {}\n", stripe),
		"last.py":      "x = 1\n\n\nGITHUB_TOKEN = '" + ghp + "'",
		"multi.js":     "const cfg = {\n  apiKey:\n  \"" + tail(7, 40, alnum) + "\",\n};\n",
		"key.pem":      privKey,
		"inline.go":    "package x\n\nconst k = `\n" + privKey + "`\n",
		"b64.yaml":     "token: " + base64.StdEncoding.EncodeToString([]byte("slack_token = "+slack)) + "\n",
		"hex.txt":      "blob " + hex.EncodeToString([]byte("aws_secret = "+fake("AK", "IA", "QYLPMN5HHHFPZAM2"))) + "\n",
		"pct.txt":      "u=" + strings.ReplaceAll("api_key%3D"+tail(8, 30, alnum), "_", "%5F") + "\n",
		"same-line.rb": fmt.Sprintf("api_key = %q # and %q\n", gcp, tail(9, 24, alnum)),
		"allow.go":     fmt.Sprintf("var k = %q // gitleaks:allow\nvar j = %q\n", stripe, stripe),
		"kelvin.txt":   "\u212aEY = \"" + tail(10, 32, alnum) + "\"\nsecret = \"" + tail(11, 20, alnum) + "\"\n",
		"crlf.ini":     "[a]\r\npassword = " + tail(12, 24, alnum) + "\r\nanthropic=" + anth + "\r\n",
		"nonl.env":     "SLACK_TOKEN=" + slack,
		"unicode.js":   `const t = "\u0073\u006b\u005f` + strings.Join(strings.Split(stripe[3:], ""), "") + `";` + "\n",
		"example.py":   fmt.Sprintf("aws_key = %q\n", fake("AK", "IA", "IOSFODNN7", "EXAMPLE")),
		"curl.sh":      "curl -X POST \\\n  -H \"Authorization: Bearer " + tail(13, 40, alnum) + "\" \\\n  https://api.example.net\n",
		"hashes.txt":   strings.Repeat("sha "+tail(14, 64, hexch)+"\n", 5),
		"jwt.txt":      "tok=" + base64.RawURLEncoding.EncodeToString([]byte(`{"alg":"HS256","typ":"JWT"}`)) + "." + base64.RawURLEncoding.EncodeToString([]byte(`{"sub":"1234567890","name":"x"}`)) + "." + tail(15, 43, b64ch) + "\n",
	}
	// Azure client secrets: the rule anchors on ^ or a delimiter, so
	// windows that start mid-text must not invent or hide matches.
	az := func(seed int) string { return tail(seed, 3, alnum) + "8Q~" + tail(seed+1, 34, alnum) }
	files["azure.txt"] = az(17) + "\n.x" + az(19) + "\n" + az(21) + "\nid=" + az(23) + " q~\n" + "a" + az(25) + "\n"
	// Decoded text next to keywords on other lines.
	files["b64ctx.yaml"] = "password:\n  " + base64.StdEncoding.EncodeToString([]byte(tail(27, 24, alnum))) + "\n" +
		"creds: \"" + base64.StdEncoding.EncodeToString([]byte("token = "+fake("gh", "p_", tail(28, 36, alnum)))) + "\"\n"
	// A long file with keyword-dense lines around one secret.
	var long strings.Builder
	for i := 0; i < 3000; i++ {
		fmt.Fprintf(&long, "key%d := m[token] // access api auth\n", i)
		if i == 1500 {
			fmt.Fprintf(&long, "password := %q\n", tail(16, 22, alnum))
		}
	}
	files["long.go"] = long.String()
	return files
}

// corpus returns files for the equivalence test: the tricky files, the
// sample org, and every nth file of $GOROOT/src (all of it when
// ENV2VAULT_EQUIV_FULL=1; none with -short).
func corpus(t *testing.T) map[string]string {
	t.Helper()
	files := trickyFiles()
	dir := t.TempDir()
	m, err := sampleorg.Build(context.Background(), dir)
	if err != nil {
		t.Fatal(err)
	}
	add := func(root, prefix string, every int) {
		n := 0
		err := filepath.WalkDir(root, func(p string, e fs.DirEntry, err error) error {
			if err != nil {
				return err
			}
			if e.IsDir() && e.Name() == ".git" {
				return filepath.SkipDir
			}
			if !e.Type().IsRegular() {
				return nil
			}
			n++
			if n%every != 0 {
				return nil
			}
			b, err := os.ReadFile(p)
			if err != nil {
				return err
			}
			rel, _ := filepath.Rel(root, p)
			files[prefix+filepath.ToSlash(rel)] = string(b)
			return nil
		})
		if err != nil {
			t.Fatal(err)
		}
	}
	for _, r := range m.Repos {
		add(filepath.Join(dir, filepath.FromSlash(r)), r+"/", 1)
	}
	if !testing.Short() {
		every := 25
		if os.Getenv("ENV2VAULT_EQUIV_FULL") == "1" {
			every = 1
		}
		add(filepath.Join(runtime.GOROOT(), "src"), "goroot/", every)
	}
	return files
}

func findingKey(f report.Finding) string {
	return fmt.Sprintf("%s:%d:%d:%s", f.RuleID, f.StartLine, f.StartColumn, f.Secret)
}

// TestEngineMatchesGitleaks checks that the windowed engine reports every
// finding gitleaks' own Detect reports (same rule, line, column and
// secret) on the corpus, with the CLI's decode depth.
func TestEngineMatchesGitleaks(t *testing.T) {
	e, err := defaultEngine()
	if err != nil {
		t.Fatal(err)
	}
	gl := gldetect.NewDetector(e.cfg)
	gl.MaxDecodeDepth = maxDecodeDepth
	files := corpus(t)
	paths := make([]string, 0, len(files))
	for p := range files {
		paths = append(paths, p)
	}
	sort.Strings(paths)
	total, extra := 0, 0
	for _, p := range paths {
		raw := files[p]
		want := gl.Detect(gldetect.Fragment{Raw: raw, FilePath: p})
		got := e.detect(p, raw)
		have := map[string]bool{}
		for _, f := range got {
			have[findingKey(f)] = true
		}
		wantSet := map[string]bool{}
		for _, f := range want {
			total++
			wantSet[findingKey(f)] = true
			if !have[findingKey(f)] {
				t.Errorf("%s: gitleaks found %s at line %d col %d, the engine did not", p, f.RuleID, f.StartLine, f.StartColumn)
			}
		}
		if !strings.HasPrefix(p, "goroot/") && testing.Verbose() {
			var ids []string
			for _, f := range want {
				ids = append(ids, fmt.Sprintf("%s@%d%v", f.RuleID, f.StartLine, f.Tags))
			}
			t.Logf("%s: %v", p, ids)
		}
		for _, f := range got {
			if !wantSet[findingKey(f)] {
				extra++
				t.Logf("%s: extra %s at line %d", p, f.RuleID, f.StartLine)
			}
		}
	}
	t.Logf("%d files, %d gitleaks findings, %d extra", len(files), total, extra)
	if total == 0 {
		t.Fatal("the corpus produced no findings: the test proves nothing")
	}
}
