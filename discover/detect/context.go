package detect

import (
	"path"
	"regexp"
	"strconv"
	"strings"

	"github.com/env2vault/env2vault/secret"
)

// contextFor says where a file's values end up, from its path and (for
// YAML and browser code) a glance at its content.
func contextFor(p, content string) string {
	lp := strings.ToLower(p)
	base := path.Base(lp)
	ext := path.Ext(base)
	switch {
	case isWorkflow(lp):
		return ContextCI
	case isCompose(base):
		return ContextCompose
	case base == "dockerfile" || strings.HasPrefix(base, "dockerfile.") || strings.HasSuffix(base, ".dockerfile") ||
		base == "containerfile":
		return ContextDockerfile
	case (ext == ".yaml" || ext == ".yml") && isKubernetes(content):
		return ContextKubernetes
	case isFrontend(lp, ext, content):
		return ContextFrontend
	}
	switch ext {
	case ".yaml", ".yml", ".json", ".toml", ".ini", ".cfg", ".conf", ".properties", ".xml", ".tf",
		".tfvars", ".hcl", ".env", ".config", ".plist", ".npmrc", ".pypirc", ".netrc":
		return ContextConfig
	}
	if strings.HasPrefix(base, ".env") || base == ".npmrc" || base == ".pypirc" || base == ".netrc" ||
		base == "settings.xml" {
		return ContextConfig
	}
	return ContextSource
}

func isWorkflow(lp string) bool {
	if strings.HasSuffix(lp, ".yml") || strings.HasSuffix(lp, ".yaml") {
		if strings.HasPrefix(lp, ".github/workflows/") || strings.Contains(lp, "/.github/workflows/") ||
			strings.HasPrefix(lp, ".github/actions/") || strings.Contains(lp, "/.github/actions/") {
			return true
		}
		base := path.Base(lp)
		if base == ".gitlab-ci.yml" || strings.HasSuffix(lp, ".circleci/config.yml") ||
			base == "azure-pipelines.yml" || base == "bitbucket-pipelines.yml" || base == ".travis.yml" {
			return true
		}
	}
	return false
}

func isCompose(base string) bool {
	for _, p := range []string{"docker-compose", "compose"} {
		if strings.HasPrefix(base, p) && (strings.HasSuffix(base, ".yml") || strings.HasSuffix(base, ".yaml")) {
			rest := strings.TrimPrefix(base, p)
			if rest == ".yml" || rest == ".yaml" || strings.HasPrefix(rest, ".") || strings.HasPrefix(rest, "-") {
				return true
			}
		}
	}
	return false
}

var k8sKind = regexp.MustCompile(`(?m)^kind:\s*["']?[A-Z]\w+`)

func isKubernetes(content string) bool {
	return strings.Contains(content, "apiVersion:") && k8sKind.MatchString(content)
}

// browserMarkers are signs that a script runs in a browser.
var browserMarkers = []string{
	"window.", "document.", "import.meta.env", "\"use client\"", "'use client'", "localStorage",
	"NEXT_PUBLIC_", "REACT_APP_", "VITE_", "navigator.",
}

// isFrontend reports code that ships to browsers: anything under a
// public/static web folder, JSX/TSX/Vue/Svelte components, and scripts
// under src/ that use browser APIs or bundler-exposed variables.
func isFrontend(lp, ext, content string) bool {
	switch ext {
	case ".jsx", ".tsx", ".vue", ".svelte", ".astro":
		return true
	case ".js", ".mjs", ".cjs", ".ts", ".html", ".htm":
	default:
		return false
	}
	if strings.Contains(lp, "node_modules/") {
		return false
	}
	for _, dir := range []string{"public/", "static/", "www/", "wwwroot/", "assets/", "dist/", "build/"} {
		if strings.HasPrefix(lp, dir) || strings.Contains(lp, "/"+dir) {
			return true
		}
	}
	if ext == ".html" || ext == ".htm" {
		return true
	}
	inSrc := strings.HasPrefix(lp, "src/") || strings.Contains(lp, "/src/") || strings.HasPrefix(lp, "app/") ||
		strings.HasPrefix(lp, "pages/") || strings.HasPrefix(lp, "components/")
	if !inSrc {
		return false
	}
	for _, m := range browserMarkers {
		if strings.Contains(content, m) {
			return true
		}
	}
	return false
}

// isTestOrDoc reports files whose literals are usually fixtures or
// examples; the assignment heuristics stay out of them (gitleaks' rules
// still run).
func isTestOrDoc(p string) bool {
	lp := "/" + strings.ToLower(p)
	for _, s := range []string{"_test.", ".test.", ".spec.", "/test/", "/tests/", "/testdata/", "/testing/",
		"/fixtures/", "/fixture/", "/__tests__/", "/spec/", "/mock", "/docs/", "/doc/", "/example/",
		"/examples/", "/sample/", "/samples/", "/vendor/", "/node_modules/", "/third_party/"} {
		if strings.Contains(lp, s) {
			return true
		}
	}
	switch path.Ext(lp) {
	case ".md", ".rst", ".txt", ".adoc", ".html", ".htm", ".ipynb", ".lock", ".sum", ".svg", ".csv":
		return true
	}
	return strings.HasPrefix(path.Base(lp), "test_") || strings.HasSuffix(path.Base(lp), ".example")
}

// assignQuoted finds name = "value" style assignments with a quoted
// value: Go, Python, JS/TS, Ruby, PHP, Java, JSON, YAML.
var assignQuoted = regexp.MustCompile(`([A-Za-z_$][\w$.-]*)["']?\s*(?::=|=>|\?\?=|=|:)\s*["'\x60]([^"'\x60\s\\]{8,256})["'\x60]`)

// assignBare finds KEY=value and key: value lines with an unquoted value
// (config files, shell, properties, YAML).
var assignBare = regexp.MustCompile(`^\s*(?:export\s+)?([A-Za-z_][\w.-]*)\s*(?:=|:)\s*([^\s"'#;,\x60]{8,256})\s*$`)

// assignmentLeaks finds values assigned to names that say "secret" on
// lines where such a word occurs, for what gitleaks' rules do not catch
// (low-entropy passwords, unknown providers).
func (d *Detector) assignmentLeaks(raw string, sc *scratch, ctx string) []Leak {
	var out []Leak
	lastLine := -1
	for _, h := range sc.hits {
		if !d.eng.assignKW[h.kw] {
			continue
		}
		li := position0(sc.nl, int(h.end)-1)
		if li == lastLine {
			continue
		}
		lastLine = li
		text := lineText(raw, sc.nl, li)
		if len(text) > 4096 || isCommentLine(text) {
			continue
		}
		if strings.Contains(text, "://") {
			for _, m := range urlCreds.FindAllStringIndex(text, -1) {
				if l, ok := d.urlLeak(text, m, ctx); ok {
					l.Line, l.Column = li+1, m[0]+1
					out = append(out, l)
				}
			}
		}
		for _, m := range assignQuoted.FindAllStringSubmatchIndex(text, -1) {
			if l, ok := d.assignment(text, m, ctx, true); ok {
				l.Line, l.Column = li+1, m[4]+1
				out = append(out, l)
			}
		}
		if ctx == ContextConfig || ctx == ContextCompose || ctx == ContextCI || ctx == ContextKubernetes {
			if m := assignBare.FindStringSubmatchIndex(text); m != nil {
				if l, ok := d.assignment(text, m, ctx, false); ok {
					l.Line, l.Column = li+1, m[4]+1
					out = append(out, l)
				}
			}
		}
	}
	return out
}

// urlCreds finds URLs with user:password@ in them.
var urlCreds = regexp.MustCompile(`\b[a-zA-Z][a-zA-Z0-9+.-]{1,20}://[^\s:@/"'\x60]*:[^\s@/"'\x60]+@[^\s"'\x60<>]+`)

// urlLeak judges a URL with credentials found in a line.
func (d *Detector) urlLeak(text string, m []int, ctx string) (Leak, bool) {
	val := strings.TrimRight(text[m[0]:m[1]], ".,;)")
	u, ok := urlWithPassword(val)
	if !ok {
		return Leak{}, false
	}
	pw, _ := u.User.Password()
	if placeholderReason(pw) != "" || isRef(pw) || strings.ContainsAny(pw, "%{}$<>") || len(pw) < 4 ||
		placeholderReason(unleet(pw)) != "" {
		return Leak{}, false
	}
	sv := secret.New(strings.Clone(val))
	return Leak{Key: strings.Clone(keyBefore(strings.TrimRight(text[:m[0]], "\"'\x60"))), Context: ctx, Value: sv,
		Rule: RuleURLPassword, Reason: "url with a password", Service: schemeService(u.Scheme), assign: true}, true
}

// isCommentLine reports lines that are comments in common languages;
// the heuristics leave them alone (gitleaks' rules still read them).
func isCommentLine(line string) bool {
	t := strings.TrimLeft(line, " \t")
	for _, p := range []string{"//", "#", "/*", "*", "--", ";", "<!--", "rem ", "REM "} {
		if strings.HasPrefix(t, p) {
			return true
		}
	}
	return false
}

// unleet undoes common letter-for-symbol swaps (p@ssw0rd -> password) so
// that such passwords are recognised as placeholders.
func unleet(s string) string {
	return strings.NewReplacer("@", "a", "0", "o", "1", "l", "$", "s", "3", "e", "!", "i").Replace(strings.ToLower(s))
}

func position0(nl []int, off int) int {
	l, _ := position(nl, off)
	return l - 1
}

// assignment judges one name/value pair found by the assignment regexes.
func (d *Detector) assignment(text string, m []int, ctx string, strict bool) (Leak, bool) {
	name, val := text[m[2]:m[3]], text[m[4]:m[5]]
	if i := strings.LastIndexAny(name, ".$"); i >= 0 {
		name = name[i+1:]
	}
	if !keyNameSecret(name, strict) {
		return Leak{}, false
	}
	if !plausibleLiteral(name, val) {
		return Leak{}, false
	}
	sv := secret.New(strings.Clone(val))
	l := Leak{Key: strings.Clone(name), Context: ctx, Value: sv, Rule: RuleKeyName, Reason: "key name",
		Service: keyService(name), Hint: Hint("", sv), assign: true}
	if u, ok := urlWithPassword(val); ok {
		l.Rule, l.Reason, l.Service = RuleURLPassword, "url with a password", schemeService(u.Scheme)
	} else if h, ok := randomLooking(val); ok {
		l.Rule, l.Reason = RuleEntropy, "entropy "+strconv.FormatFloat(h, 'f', 1, 64)
	}
	return l, true
}

// plausibleLiteral rejects values that are not secrets whatever their
// name: placeholders, references, words, identifiers, paths, URLs
// without a password, format strings and numbers.
func plausibleLiteral(name, val string) bool {
	if placeholderReason(val) != "" || isRef(val) || looksConfigValue(val) {
		return false
	}
	if strings.EqualFold(val, name) || strings.Contains(strings.ToLower(val), strings.ToLower(name)) {
		return false
	}
	if strings.ContainsAny(val, "%{}<>()[]|") || strings.Contains(val, "${") {
		return false
	}
	if strings.Contains(val, "://") {
		_, ok := urlWithPassword(val)
		return ok
	}
	if strings.HasPrefix(val, "/") || strings.HasPrefix(val, "./") || strings.HasPrefix(val, "~/") {
		return false
	}
	// A value that names a secret ("js.fetch:credentials") is not one.
	lv := strings.ToLower(val)
	for _, w := range []string{"credential", "password", "passwd", "secret", "token", "apikey", "api_key", "api-key"} {
		if strings.Contains(lv, w) {
			return false
		}
	}
	// Words and dotted or dashed identifiers (header names, config keys,
	// env var names): no digits and nothing but letters and separators.
	digits, letters, others := 0, 0, 0
	for i := 0; i < len(val); i++ {
		c := val[i]
		switch {
		case c >= '0' && c <= '9':
			digits++
		case c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z':
			letters++
		case c == '-' || c == '_' || c == '.' || c == ':' || c == '/':
		default:
			others++
		}
	}
	if digits == 0 && others == 0 {
		return false
	}
	if letters == 0 && others == 0 {
		return false // numbers, dates, versions
	}
	if looksHostname(val) || isUUID(val) {
		return false
	}
	return shannonEntropy(val) >= 2.5
}

// keyBefore returns the name a value is assigned to, from the text that
// precedes the value on its line ("const apiKey = " -> "apiKey").
func keyBefore(prefix string) string {
	s := strings.TrimRight(prefix, " \t\"'`")
	ops := []string{":=", "=>", "?=", "=", ":"}
	found := false
	for _, op := range ops {
		if strings.HasSuffix(s, op) {
			s = strings.TrimSuffix(s, op)
			found = true
			break
		}
	}
	if !found {
		return ""
	}
	s = strings.TrimRight(s, " \t\"'`")
	for range 2 {
		name := trailingIdent(s)
		if name == "" {
			return ""
		}
		switch name {
		case "string", "String", "str", "const", "var", "let", "final", "val", "Any", "any", "bytes", "byte":
			// A type annotation: the name comes before it.
			s = strings.TrimRight(strings.TrimSuffix(s, name), " \t:")
			continue
		}
		if i := strings.LastIndexAny(name, ".$"); i >= 0 {
			name = name[i+1:]
		}
		return name
	}
	return ""
}

func trailingIdent(s string) string {
	i := len(s)
	for i > 0 {
		c := s[i-1]
		if c == '_' || c == '-' || c == '.' || c == '$' || c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' {
			i--
			continue
		}
		break
	}
	name := strings.Trim(s[i:], ".-")
	if name == "" || name[0] >= '0' && name[0] <= '9' {
		return ""
	}
	return name
}
