// Package detect decides what is a secret: it finds hardcoded keys in any
// text file and classifies .env entries as secrets, configuration or
// placeholders.
//
// Hardcoded keys are found with gitleaks' default rules (used as a
// library, and run only where they can match — see engine), plus
// structural checks for config files whose layout names the variable a
// value belongs to: docker-compose environment blocks, GitHub Actions
// env blocks, Dockerfile ARG/ENV, Kubernetes Secret manifests (base64
// decoded) and plain assignments whose name says "password" or "token".
//
// Nothing in this package prints, logs or returns a value except inside a
// secret.Value.
package detect

import (
	"cmp"
	"slices"
	"strconv"
	"strings"
	"unsafe"

	"github.com/zricethezav/gitleaks/v8/report"

	"github.com/env2vault/env2vault/secret"
)

// Contexts of a Leak (the same strings as discover.Context).
const (
	ContextSource     = "source"
	ContextFrontend   = "frontend"
	ContextCompose    = "compose"
	ContextCI         = "ci"
	ContextDockerfile = "dockerfile"
	ContextKubernetes = "kubernetes"
	ContextConfig     = "config"
)

// Options configure a Detector.
type Options struct {
	// IgnoreFingerprints holds .gitleaksignore entries
	// ("path:rule-id:line", with 1-based lines and slash-separated
	// repo-relative paths). Matching findings are dropped.
	IgnoreFingerprints map[string]bool
	// IgnoreAllowComments turns off "gitleaks:allow" comments (which
	// otherwise silence findings on their line).
	IgnoreAllowComments bool
}

// Detector finds secrets. It is safe for concurrent use; create one and
// share it.
type Detector struct {
	eng    *engine
	ignore map[string]bool
	// allowComments honours gitleaks:allow on structural findings;
	// gitleaks honours it itself for its own.
	allowComments bool
}

// New returns a Detector using gitleaks' default rules.
func New(opts Options) (*Detector, error) {
	eng, err := defaultEngine()
	if err != nil {
		return nil, err
	}
	ignore := map[string]bool{}
	for k, v := range opts.IgnoreFingerprints {
		if v {
			ignore[strings.ReplaceAll(strings.TrimSpace(k), `\`, "/")] = true
		}
	}
	return &Detector{eng: eng, ignore: ignore, allowComments: !opts.IgnoreAllowComments}, nil
}

// Leak is one hardcoded secret.
type Leak struct {
	// Line and Column are 1-based and point at the value (for values
	// found decoded, at the start of the match).
	Line, Column int
	// Rule is a gitleaks rule id or one of env2vault's rules
	// ("url-password", "key-name", "entropy", "kubernetes-secret").
	Rule string
	// Service is the provider (stripe, anthropic, aws, ...), if known.
	Service string
	// Key is the variable or field name the value is assigned to, as
	// written ("anthropicAPIKey", "POSTGRES_PASSWORD"), if known.
	Key string
	// Reason says why this is a secret, without the value.
	Reason string
	// Hint is at most a known provider prefix ("ghp_…").
	Hint string
	// Context is where the value sits: source, frontend, compose, ci,
	// dockerfile, kubernetes or config.
	Context string
	// Value is the secret.
	Value secret.Value

	structural bool // found or confirmed by a structural check
	assign     bool // found by the assignment heuristics
	matchLine  int  // 1-based line where gitleaks' match starts, if any
}

// Scan finds hardcoded secrets in one file. path is slash-separated and
// relative to the repo; it decides the context and which rules apply.
func (d *Detector) Scan(path string, content []byte) []Leak {
	if len(content) == 0 {
		return nil
	}
	// The content is only read during the scan; every string kept in a
	// Leak is cloned out of it.
	raw := unsafe.String(&content[0], len(content))
	ctx := contextFor(path, raw)

	sc := scratchPool.Get().(*scratch)
	defer scratchPool.Put(sc)
	sc.specificOnly = false
	findings := d.eng.detectWith(sc, path, raw)

	var leaks []Leak
	for _, f := range findings {
		if l, ok := d.fromFinding(f, raw, sc.nl, ctx); ok {
			leaks = append(leaks, l)
		}
	}
	var extra []Leak
	switch ctx {
	case ContextCompose:
		extra = d.composeLeaks(raw)
	case ContextCI:
		extra = d.workflowLeaks(raw)
	case ContextDockerfile:
		extra = d.dockerfileLeaks(raw)
	case ContextKubernetes:
		extra = d.kubernetesLeaks(raw)
	}
	if !isTestOrDoc(path) {
		extra = append(extra, d.assignmentLeaks(raw, sc, ctx)...)
	}
	leaks = d.merge(path, raw, sc.nl, leaks, extra)
	slices.SortFunc(leaks, func(a, b Leak) int {
		return cmp.Or(cmp.Compare(a.Line, b.Line), cmp.Compare(a.Column, b.Column), strings.Compare(a.Rule, b.Rule))
	})
	return leaks
}

// fromFinding turns a gitleaks finding into a Leak.
func (d *Detector) fromFinding(f report.Finding, raw string, nl []int, ctx string) (Leak, bool) {
	if f.Secret == "" && f.Match == "" {
		return Leak{}, false
	}
	if strings.HasPrefix(f.Match, "file detected: ") {
		return Leak{Line: 1, Column: 1, Rule: f.RuleID, Reason: "provider rule " + f.RuleID, Context: ctx,
			Service: ServiceForRule(f.RuleID)}, true
	}
	// gitleaks' StartLine is 0-based; its StartColumn is 1-based on the
	// first line and one too high on every later line.
	line0 := f.StartLine
	col := f.StartColumn
	if line0 > 0 {
		col--
	}
	matchStart := lineStart(nl, line0) + col - 1
	line, column := line0+1, max(col, 1)
	if matchStart >= 0 && matchStart <= len(raw) {
		if i := strings.Index(raw[matchStart:], f.Secret); i >= 0 && f.Secret != "" {
			line, column = position(nl, matchStart+i)
		}
	}
	sv := secret.New(strings.Clone(f.Secret))
	svc := ServiceForRule(f.RuleID)
	reason := "provider rule " + f.RuleID
	if isGenericRule(f.RuleID) {
		reason = "gitleaks rule " + f.RuleID
	}
	if isDecoded(f) {
		reason += " (decoded)"
	}
	l := Leak{
		Line: line, Column: column, Rule: f.RuleID, Service: svc, Reason: reason,
		Hint: Hint(svc, sv), Context: ctx, Value: sv, matchLine: line0 + 1,
	}
	if line-1 < len(nl)+1 {
		text := lineText(raw, nl, line-1)
		if off := column - 1; off >= 0 && off <= len(text) {
			l.Key = strings.Clone(keyBefore(text[:off]))
		}
	}
	if l.Service == "" && l.Key != "" {
		l.Service = keyService(l.Key)
	}
	return l, true
}

// merge joins gitleaks' leaks with the structural ones (which know the
// variable name and context) and drops ignored ones.
func (d *Detector) merge(path, raw string, nl []int, leaks, extra []Leak) []Leak {
	type lv struct {
		line int
		val  string
	}
	idx := map[lv]int{}
	for i, l := range leaks {
		idx[lv{l.Line, l.Value.Reveal()}] = i
	}
	structLines := map[int]bool{}
	// Structural findings first: they know the variable and the context.
	for _, x := range extra {
		if x.assign || d.allowComments && strings.Contains(lineText(raw, nl, x.Line-1), allowSignature) {
			continue
		}
		structLines[x.Line] = true
		key := lv{x.Line, x.Value.Reveal()}
		if i, ok := idx[key]; ok {
			l := &leaks[i]
			if x.Key != "" {
				l.Key = x.Key
				l.Column = x.Column
			}
			l.Context = x.Context
			l.structural = true
			if isGenericRule(l.Rule) && !isGenericRule(x.Rule) && x.Rule != RuleKeyName && x.Rule != RuleEntropy {
				l.Rule, l.Reason = x.Rule, x.Reason
			}
			if l.Service == "" {
				l.Service = x.Service
			}
			if l.Hint == "" {
				l.Hint = x.Hint
			}
			continue
		}
		idx[key] = len(leaks)
		x.structural = true
		leaks = append(leaks, x)
	}
	// Then the assignment heuristics, only for what nothing else found.
	for _, x := range extra {
		if !x.assign || structLines[x.Line] || overlapsLeak(leaks, x) {
			continue
		}
		if d.allowComments && strings.Contains(lineText(raw, nl, x.Line-1), allowSignature) {
			continue
		}
		leaks = append(leaks, x)
	}
	out := leaks[:0]
	for _, l := range leaks {
		// A generic gitleaks match on a line that a structural check
		// read (e.g. the base64 form of a Kubernetes Secret value) adds
		// nothing but noise.
		if isGenericRule(l.Rule) && structLines[l.Line] && !l.structural {
			continue
		}
		if d.ignored(path, l) {
			continue
		}
		out = append(out, l)
	}
	return out
}

func overlapsLeak(leaks []Leak, x Leak) bool {
	xv := x.Value.Reveal()
	for _, l := range leaks {
		if l.Line != x.Line {
			continue
		}
		v := l.Value.Reveal()
		if v != "" && (strings.Contains(xv, v) || strings.Contains(v, xv)) {
			return true
		}
	}
	return false
}

// ignored reports whether a .gitleaksignore entry covers the leak.
func (d *Detector) ignored(path string, l Leak) bool {
	if len(d.ignore) == 0 {
		return false
	}
	if d.ignore[path+":"+l.Rule+":"+strconv.Itoa(l.Line)] {
		return true
	}
	// gitleaks fingerprints name the line where its match starts.
	return l.matchLine > 0 && d.ignore[path+":"+l.Rule+":"+strconv.Itoa(l.matchLine)]
}

// lineStart returns the offset where 0-based line i starts.
func lineStart(nl []int, i int) int {
	if i <= 0 {
		return 0
	}
	if i-1 < len(nl) {
		return nl[i-1] + 1
	}
	return -1
}

// lineText returns 0-based line i without its newline.
func lineText(raw string, nl []int, i int) string {
	s := lineStart(nl, i)
	if s < 0 || s > len(raw) {
		return ""
	}
	e := len(raw)
	if i < len(nl) {
		e = nl[i]
	}
	return strings.TrimSuffix(raw[s:e], "\r")
}

// position returns the 1-based line and column of a byte offset.
func position(nl []int, off int) (int, int) {
	i, _ := slices.BinarySearch(nl, off)
	return i + 1, off - lineStart(nl, i) + 1
}
