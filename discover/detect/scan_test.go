package detect

import (
	"encoding/base64"
	"fmt"
	"strings"
	"sync"
	"testing"

	"github.com/google/go-cmp/cmp"
	gldetect "github.com/zricethezav/gitleaks/v8/detect"
)

// want is the expected shape of one leak; Value is compared separately.
type want struct {
	Line, Column            int
	Rule, Service, Key, Ctx string
}

func shape(l Leak) want {
	return want{l.Line, l.Column, l.Rule, l.Service, l.Key, l.Context}
}

func TestScanContexts(t *testing.T) {
	d := detector(t)
	stripe := fake("sk", "_live_", tail(51, 32, alnum))
	ghp := fake("gh", "p_", tail(52, 36, alnum))
	pw := tail(53, 22, alnum)
	slackHook := fake("https://hooks.", "slack.com/services/T0", "1ABCD2EF/B0", "1ABCD2EF/", tail(54, 24, alnum))
	gmaps := fake("AI", "za", tail(55, 35, b64ch))
	sendgrid := fake("S", "G.", tail(56, 22, b64ch), ".", tail(57, 43, b64ch))
	lowpw := "hunter22x"
	tests := []struct {
		name, path, content string
		secrets             []string // the values, in order of the leaks
		want                []want
	}{
		{
			name: "compose map form",
			path: "docker-compose.yml",
			content: "services:\n  db:\n    image: postgres:16\n    environment:\n      POSTGRES_USER: billing\n" +
				"      POSTGRES_PASSWORD: " + pw + "\n      PGDATA: /var/lib/pg\n",
			secrets: []string{pw},
			want:    []want{{6, 26, "generic-api-key", "postgres", "POSTGRES_PASSWORD", ContextCompose}},
		},
		{
			name: "compose list form, quoted, low entropy",
			path: "svc/compose.yaml",
			content: "services:\n  api:\n    environment:\n      - PORT=8080\n      - \"DB_PASSWORD=" + lowpw + "\"\n" +
				"      - API_TOKEN=${API_TOKEN}\n",
			secrets: []string{lowpw},
			want:    []want{{5, 22, RuleKeyName, "", "DB_PASSWORD", ContextCompose}},
		},
		{
			name:    "compose build args",
			path:    "docker-compose.prod.yml",
			content: "services:\n  api:\n    build:\n      context: .\n      args:\n        GITHUB_TOKEN: " + ghp + "\n",
			secrets: []string{ghp},
			want:    []want{{6, 23, "github-pat", "github", "GITHUB_TOKEN", ContextCompose}},
		},
		{
			name: "workflow env with inline secret and secrets refs",
			path: ".github/workflows/deploy.yml",
			content: "on: push\nenv:\n  STRIPE_KEY: ${{ secrets.STRIPE_KEY }}\njobs:\n  x:\n    runs-on: ubuntu-latest\n" +
				"    env:\n      SLACK_WEBHOOK_URL: " + slackHook + "\n    steps:\n      - run: make\n" +
				"        env:\n          DB_PASSWORD: '" + lowpw + "'\n",
			secrets: []string{slackHook, lowpw},
			want: []want{
				{8, 26, "slack-webhook-url", "slack", "SLACK_WEBHOOK_URL", ContextCI},
				{12, 25, RuleKeyName, "", "DB_PASSWORD", ContextCI},
			},
		},
		{
			name: "dockerfile ARG and ENV forms",
			path: "build/Dockerfile.prod",
			content: "FROM golang:1.22\nARG GITHUB_TOKEN=" + ghp + "\nARG VERSION=1.2.3\nENV PORT=8080 DB_PASSWORD=\"" + lowpw +
				"\"\nENV API_SECRET " + lowpw + "y\nENV TOKEN=$TOKEN\n",
			secrets: []string{ghp, lowpw, lowpw + "y"},
			want: []want{
				{2, 18, "github-pat", "github", "GITHUB_TOKEN", ContextDockerfile},
				{4, 28, RuleKeyName, "", "DB_PASSWORD", ContextDockerfile},
				{5, 16, RuleKeyName, "", "API_SECRET", ContextDockerfile},
			},
		},
		{
			name: "kubernetes secret data and stringData",
			path: "k8s/secret.yaml",
			content: "apiVersion: v1\nkind: Secret\nmetadata:\n  name: web\ntype: Opaque\ndata:\n" +
				"  SENDGRID_API_KEY: " + base64.StdEncoding.EncodeToString([]byte(sendgrid)) + "\n" +
				"  EMPTY: \"\"\n  EXAMPLE: " + base64.StdEncoding.EncodeToString([]byte("changeme")) + "\n" +
				"stringData:\n  DB_PASSWORD: " + lowpw + "\n",
			secrets: []string{sendgrid, lowpw},
			want: []want{
				{7, 21, "sendgrid-api-token", "sendgrid", "SENDGRID_API_KEY", ContextKubernetes},
				{11, 16, RuleKeyName, "", "DB_PASSWORD", ContextKubernetes},
			},
		},
		{
			name: "kubernetes deployment env value",
			path: "deploy/app.yaml",
			content: "apiVersion: apps/v1\nkind: Deployment\nspec:\n  template:\n    spec:\n      containers:\n" +
				"        - name: app\n          env:\n            - name: SESSION_SECRET\n              value: \"" + lowpw + "\"\n" +
				"            - name: PORT\n              value: \"80\"\n",
			secrets: []string{lowpw},
			want:    []want{{10, 23, RuleKeyName, "", "SESSION_SECRET", ContextKubernetes}},
		},
		{
			name:    "frontend public script",
			path:    "public/config.js",
			content: "window.APP = {\n  mapsKey: \"" + gmaps + "\",\n};\n",
			secrets: []string{gmaps},
			want:    []want{{2, 13, "gcp-api-key", "google", "mapsKey", ContextFrontend}},
		},
		{
			name:    "frontend component",
			path:    "src/Checkout.tsx",
			content: "export const Checkout = () => {\n\tconst stripeKey: string = \"" + stripe + "\";\n}\n",
			secrets: []string{stripe},
			want:    []want{{2, 29, "stripe-access-token", "stripe", "stripeKey", ContextFrontend}},
		},
		{
			name:    "node backend under src is source",
			path:    "src/server.js",
			content: "const x = require('x');\nconst stripeKey = '" + stripe + "';\n",
			secrets: []string{stripe},
			want:    []want{{2, 20, "stripe-access-token", "stripe", "stripeKey", ContextSource}},
		},
		{
			name:    "go source with a low-entropy password",
			path:    "internal/db/db.go",
			content: "package db\n\nconst dbPassword = \"" + lowpw + "\"\nconst maxConns = 10\n",
			secrets: []string{lowpw},
			want:    []want{{3, 21, RuleKeyName, "", "dbPassword", ContextSource}},
		},
		{
			name:    "python url with password",
			path:    "app/settings.py",
			content: "DATABASE_URL = \"postgres://app:" + lowpw + "@db:5432/app\"\n",
			secrets: []string{"postgres://app:" + lowpw + "@db:5432/app"},
			want:    []want{{1, 17, RuleURLPassword, "postgres", "DATABASE_URL", ContextSource}},
		},
		{
			name:    "test files: no assignment heuristics, gitleaks rules still run",
			path:    "internal/db/db_test.go",
			content: "package db\n\nconst dbPassword = \"" + lowpw + "\"\nvar k = \"" + stripe + "\"\n",
			secrets: []string{stripe},
			want:    []want{{4, 10, "stripe-access-token", "stripe", "k", ContextSource}},
		},
		{
			name:    "config file",
			path:    "config/app.ini",
			content: "[db]\nhost = db.internal\npassword = " + lowpw + "\n",
			secrets: []string{lowpw},
			want:    []want{{3, 12, RuleKeyName, "", "password", ContextConfig}},
		},
		{
			name:    "placeholders and references stay quiet",
			path:    "config/settings.yaml",
			content: "api_key: your-key-here\npassword: changeme\ntoken: ${TOKEN}\nsecret: <secret>\nkey: sk-ant-...\n",
		},
		{
			name: "names of secrets and comments stay quiet",
			path: "net/fetch.go",
			content: "package net\n\nconst jsFetchCreds = \"js.fetch:credentials\"\nconst tokenHeader = \"X-Auth-Token\"\n" +
				"// for example, in \"http://username:p@ssword@google.com\"\nvar u = \"https://user:p@ssw0rd@host/x\"\n",
		},
		{
			name:    "code reading env vars stays quiet",
			path:    "main.go",
			content: "package main\n\nimport \"os\"\n\nvar token = os.Getenv(\"API_TOKEN\")\nvar password = flag.String(\"password\", \"\", \"db password\")\n",
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			leaks := d.Scan(tt.path, []byte(tt.content))
			var got []want
			for _, l := range leaks {
				got = append(got, shape(l))
			}
			if diff := cmp.Diff(tt.want, got); diff != "" {
				t.Fatalf("leaks (-want +got):\n%s\n%s", diff, describe(leaks))
			}
			for i, l := range leaks {
				if l.Value.Reveal() != tt.secrets[i] {
					t.Errorf("leak %d: wrong value (%d bytes, want %d)", i, l.Value.Len(), len(tt.secrets[i]))
				}
				if l.Reason == "" {
					t.Errorf("leak %d: no reason", i)
				}
				assertNoValue(t, l)
			}
		})
	}
}

// assertNoValue checks that no printable field of a leak carries its
// value.
func assertNoValue(t *testing.T, l Leak) {
	t.Helper()
	v := l.Value.Reveal()
	for _, s := range []string{fmt.Sprintf("%v", l), fmt.Sprintf("%+v", l), fmt.Sprintf("%#v", l), l.Reason, l.Key, l.Rule, l.Service} {
		if strings.Contains(s, v) {
			t.Errorf("a printable field of the leak holds its value")
		}
	}
	if l.Hint != "" && len(l.Hint) > len("https://hooks.slack.com/…") {
		t.Errorf("hint too long: %d bytes", len(l.Hint))
	}
}

// TestLineColumn checks the correction of gitleaks' columns: 1-based on
// the first line, one too high after it. Leak columns point at the value.
func TestLineColumn(t *testing.T) {
	d := detector(t)
	key := fake("gh", "p_", tail(61, 36, alnum))
	tests := []struct {
		content      string
		line, column int
	}{
		{key, 1, 1},
		{"x = '" + key + "'", 1, 6},
		{"\n\n" + key + "\n", 3, 1},
		{"a\nb\n\tt = \"" + key + "\"\n", 3, 7},
		{"a\r\nb\r\n  t: " + key + "\r\n", 3, 6},
		{"// héllo wörld\nt = \"" + key + "\"", 2, 6},
	}
	for i, tt := range tests {
		leaks := d.Scan("f.txt", []byte(tt.content))
		if len(leaks) != 1 {
			t.Fatalf("case %d: %d leaks: %s", i, len(leaks), describe(leaks))
		}
		if leaks[0].Line != tt.line || leaks[0].Column != tt.column {
			t.Errorf("case %d: at %d:%d, want %d:%d", i, leaks[0].Line, leaks[0].Column, tt.line, tt.column)
		}
	}
}

// TestGitleaksColumnQuirk pins the gitleaks behaviour the correction
// relies on, so a gitleaks upgrade that fixes it fails here first.
func TestGitleaksColumnQuirk(t *testing.T) {
	e, err := defaultEngine()
	if err != nil {
		t.Fatal(err)
	}
	key := fake("gh", "p_", tail(62, 36, alnum))
	gl := gldetect.NewDetector(e.cfg)
	first := gl.DetectString("x = '" + key + "'")
	later := gl.DetectString("a\nx = '" + key + "'")
	if len(first) != 1 || len(later) != 1 {
		t.Fatalf("findings: %d, %d", len(first), len(later))
	}
	if first[0].StartLine != 0 || first[0].StartColumn != 6 {
		t.Errorf("first line: StartLine %d StartColumn %d, want 0 and 6", first[0].StartLine, first[0].StartColumn)
	}
	if later[0].StartLine != 1 || later[0].StartColumn != 7 {
		t.Errorf("second line: StartLine %d StartColumn %d, want 1 and 7 (one too high)", later[0].StartLine, later[0].StartColumn)
	}
}

func TestAllowlists(t *testing.T) {
	stripe := fake("sk", "_live_", tail(71, 32, alnum))
	content := []byte("a = '" + stripe + "' # gitleaks:allow\nb = '" + stripe + "'\nc = '" + stripe + "'\n" +
		"aws = '" + fake("AK", "IA", "IOSFODNN7", "EXAMPLE") + "'\n")
	d, err := New(Options{IgnoreFingerprints: map[string]bool{"app/keys.py:stripe-access-token:3": true}})
	if err != nil {
		t.Fatal(err)
	}
	leaks := d.Scan("app/keys.py", content)
	if len(leaks) != 1 || leaks[0].Line != 2 {
		t.Fatalf("want only line 2 (line 1 allowed, line 3 ignored, EXAMPLE key allowlisted): %s", describe(leaks))
	}

	// gitleaks fingerprints name the line where the match starts, which
	// for a multi-line match is not the value's line.
	multi := []byte("const cfg = {\n  apiKey:\n  \"" + tail(7, 40, alnum) + "\",\n};\n")
	if leaks := d.Scan("web/cfg.js", multi); len(leaks) != 1 || leaks[0].Line != 3 {
		t.Fatalf("multi-line: %s", describe(leaks))
	}
	dm, _ := New(Options{IgnoreFingerprints: map[string]bool{"web/cfg.js:generic-api-key:2": true}})
	if leaks := dm.Scan("web/cfg.js", multi); len(leaks) != 0 {
		t.Errorf("fingerprint of the match line ignored: %s", describe(leaks))
	}

	// Structural findings honour gitleaks:allow too.
	compose := []byte("services:\n  db:\n    environment:\n      DB_PASSWORD: hunter22x # gitleaks:allow\n")
	if leaks := d.Scan("docker-compose.yml", compose); len(leaks) != 0 {
		t.Errorf("allow comment ignored: %s", describe(leaks))
	}
	// Unless told not to.
	d2, _ := New(Options{IgnoreAllowComments: true})
	if leaks := d2.Scan("docker-compose.yml", compose); len(leaks) != 1 {
		t.Errorf("IgnoreAllowComments: %s", describe(leaks))
	}
	// Paths gitleaks allowlists globally (lock files, vendored code).
	if leaks := d.Scan("node_modules/x/index.js", []byte("k = '"+stripe+"'")); len(leaks) != 0 {
		t.Errorf("allowlisted path scanned: %s", describe(leaks))
	}
}

func TestComposeEnvFiles(t *testing.T) {
	tests := []struct {
		name, content string
		want          []string
	}{
		{"string", "services:\n  api:\n    env_file: .env\n", []string{".env"}},
		{"list", "services:\n  api:\n    env_file:\n      - .env\n      - ./config/.env.local\n", []string{".env", "./config/.env.local"}},
		{"long syntax", "services:\n  api:\n    env_file:\n      - path: ./default.env\n        required: true\n      - path: ./override.env\n        required: false\n",
			[]string{"./default.env", "./override.env"}},
		{"several services, no duplicates", "services:\n  a:\n    env_file: .env\n  b:\n    env_file: [.env, b.env]\n  c:\n    image: x\n",
			[]string{".env", "b.env"}},
		{"none", "services:\n  a:\n    image: x\n", nil},
		{"not yaml", "services: [\n", nil},
		{"no services", "version: '3'\n", nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if diff := cmp.Diff(tt.want, ComposeEnvFiles([]byte(tt.content))); diff != "" {
				t.Errorf("(-want +got):\n%s", diff)
			}
		})
	}
}

func TestContextFor(t *testing.T) {
	tests := []struct{ path, content, want string }{
		{".github/workflows/ci.yml", "", ContextCI},
		{"svc/.github/workflows/ci.yaml", "", ContextCI},
		{".gitlab-ci.yml", "", ContextCI},
		{"docker-compose.yml", "", ContextCompose},
		{"compose.override.yaml", "", ContextCompose},
		{"Dockerfile", "", ContextDockerfile},
		{"api/Dockerfile.dev", "", ContextDockerfile},
		{"k8s/secret.yaml", "apiVersion: v1\nkind: Secret\n", ContextKubernetes},
		{"config/app.yaml", "name: x\n", ContextConfig},
		{"web/public/app.js", "", ContextFrontend},
		{"web/src/App.jsx", "", ContextFrontend},
		{"web/src/config.ts", "export const k = import.meta.env.VITE_X", ContextFrontend},
		{"web/src/server.js", "const x = require('x')", ContextSource},
		{"cmd/main.go", "", ContextSource},
		{"settings.toml", "", ContextConfig},
	}
	for _, tt := range tests {
		if got := contextFor(tt.path, tt.content); got != tt.want {
			t.Errorf("contextFor(%q) = %q, want %q", tt.path, got, tt.want)
		}
	}
}

func TestKeyBefore(t *testing.T) {
	tests := map[string]string{
		`const anthropicAPIKey = "`:    "anthropicAPIKey",
		`HF_TOKEN = "`:                 "HF_TOKEN",
		`  mapsKey: "`:                 "mapsKey",
		`ARG GITHUB_TOKEN=`:            "GITHUB_TOKEN",
		`export const key: string = "`: "key",
		`var apiKey string = "`:        "apiKey",
		`"api_key": "`:                 "api_key",
		`cfg.Stripe.SecretKey := "`:    "SecretKey",
		`$token => '`:                  "token",
		`call("`:                       "",
		`x := []string{"`:              "",
		`      SLACK_WEBHOOK_URL: `:    "SLACK_WEBHOOK_URL",
	}
	for in, want := range tests {
		if got := keyBefore(in); got != want {
			t.Errorf("keyBefore(%q) = %q, want %q", in, got, want)
		}
	}
}

// TestConcurrentScan shares one Detector between goroutines (run with
// -race to check the pooled scratch memory).
func TestConcurrentScan(t *testing.T) {
	d := detector(t)
	files := trickyFiles()
	want := map[string]int{}
	for p, c := range files {
		want[p] = len(d.Scan(p, []byte(c)))
	}
	var wg sync.WaitGroup
	for g := 0; g < 8; g++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for p, c := range files {
				if n := len(d.Scan(p, []byte(c))); n != want[p] {
					t.Errorf("%s: %d leaks concurrently, %d alone", p, n, want[p])
				}
			}
		}()
	}
	wg.Wait()
}

// TestScanDoesNotKeepTheBuffer checks that leak values survive the
// caller reusing its read buffer.
func TestScanDoesNotKeepTheBuffer(t *testing.T) {
	key := fake("gh", "p_", tail(81, 36, alnum))
	buf := []byte("t = '" + key + "'\n")
	leaks := detector(t).Scan("a.py", buf)
	if len(leaks) != 1 {
		t.Fatalf("%d leaks", len(leaks))
	}
	for i := range buf {
		buf[i] = 'x'
	}
	if leaks[0].Value.Reveal() != key || leaks[0].Key != "t" {
		t.Error("leak shares memory with the scanned buffer")
	}
}

// TestProviderRules checks rule and service for provider-shaped keys
// hardcoded in source.
func TestProviderRules(t *testing.T) {
	d := detector(t)
	const upper32 = "ABCDEFGHIJKLMNOPQRSTUVWXYZ234567"
	alpha := "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"
	tests := []struct {
		name, value, rule, service, hint string
	}{
		{"stripe", fake("sk", "_live_", tail(101, 32, alnum)), "stripe-access-token", "stripe", "sk_live_…"},
		{"anthropic", fake("sk-", "ant-", "api03-", tail(102, 93, b64ch), "AA"), "anthropic-api-key", "anthropic", "sk-ant-api03-…"},
		{"openai", fake("sk-", "proj-", tail(103, 74, alnum), "T3Blbk", "FJ", tail(104, 74, alnum)), "openai-api-key", "openai", "sk-proj-…"},
		{"aws", fake("AK", "IA", tail(105, 16, upper32)), "aws-access-token", "aws", "AKIA…"},
		{"github", fake("gh", "p_", tail(106, 36, alnum)), "github-pat", "github", "ghp_…"},
		{"github fine-grained", fake("github", "_pat_", tail(107, 82, alnum+"_")), "github-fine-grained-pat", "github", "github_pat_…"},
		{"gitlab", fake("gl", "pat-", tail(108, 20, alnum)), "gitlab-pat", "gitlab", "glpat-…"},
		{"slack", fake("xox", "b-", "1234567890", "-", "1234567890123", "-", tail(109, 24, alnum)), "slack-bot-token", "slack", "xoxb-…"},
		{"sendgrid", fake("S", "G.", tail(110, 22, b64ch), ".", tail(111, 43, b64ch)), "sendgrid-api-token", "sendgrid", "SG.…"},
		{"google", fake("AI", "za", tail(112, 35, b64ch)), "gcp-api-key", "google", "AIza…"},
		{"huggingface", fake("h", "f_", tail(113, 34, alpha)), "huggingface-access-token", "huggingface", "hf_…"},
		{"npm", fake("np", "m_", tail(114, 36, alnum)), "npm-access-token", "npm", "npm_…"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			leaks := d.Scan("cmd/app/main.go", []byte("package main\n\nconst k = \""+tt.value+"\"\n"))
			if len(leaks) != 1 {
				t.Fatalf("%d leaks: %s", len(leaks), describe(leaks))
			}
			l := leaks[0]
			if l.Rule != tt.rule || l.Service != tt.service || l.Hint != tt.hint || l.Key != "k" ||
				l.Line != 3 || l.Column != 12 || l.Value.Reveal() != tt.value {
				t.Errorf("got %s", describe(leaks))
			}
			assertNoValue(t, l)
		})
	}
}
