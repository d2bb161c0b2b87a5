package detect

import (
	"fmt"
	"math"
	"regexp"
	"slices"
	"sort"
	"strings"
	"sync"

	"github.com/rs/zerolog"
	"github.com/spf13/viper"
	"github.com/zricethezav/gitleaks/v8/config"
	"github.com/zricethezav/gitleaks/v8/detect/codec"
	"github.com/zricethezav/gitleaks/v8/logging"
	"github.com/zricethezav/gitleaks/v8/report"
)

// maxDecodeDepth matches the gitleaks CLI default (--max-decode-depth 5).
const maxDecodeDepth = 5

// suffixProbe is how much text after a keyword hit a rule's suffix
// check reads. Cutting the text short only lets more hits through ($
// matches at the cut), so the check stays sound.
const suffixProbe = 512

// allowSignature is the inline comment that silences a finding.
const allowSignature = "gitleaks:allow"

// engine runs gitleaks' default rules the way gitleaks does, but only
// where they can match. gitleaks runs every rule whose keyword occurs
// anywhere in a file over the whole file; engine finds keyword hits with
// one Aho-Corasick pass, drops hits the rest of the rule cannot follow
// (keywordSuffixes), and runs each rule only on the lines around the
// remaining hits, as far as its regex can reach (analyze). Rules whose
// matches need not contain a keyword, or can span any number of lines,
// still run over the whole file. Findings are built exactly as gitleaks'
// detectRule builds them (secret groups, entropy, allowlists,
// gitleaks:allow, locations). gitleaks' decoding passes (base64, hex,
// percent and unicode escapes, five levels deep) run with gitleaks' own
// decoder, only for files that hold encoded text, on a copy that keeps
// only the lines a match overlapping decoded text can reach.
//
// TestEngineMatchesGitleaks checks that it reports every finding
// gitleaks' Detect reports, on all of $GOROOT/src with
// ENV2VAULT_EQUIV_FULL=1.
type engine struct {
	cfg      config.Config
	rules    []*crule
	ac       *acMachine
	kwRules  [][]int32 // keyword index -> rule indices
	assignKW []bool    // keyword index -> used by the assignment heuristics
}

// crule is one compiled gitleaks rule with its reach.
type crule struct {
	config.Rule
	reach reach
	// suffix maps keyword indexes to a regex that must match right after
	// a hit of that keyword for the hit to be part of a match (see
	// keywordSuffixes).
	suffix map[int32]*regexp.Regexp
	// whole is set when the rule must see the whole file.
	whole bool
	// generic marks rules that name no provider (generic-api-key, ...).
	generic bool
	// kw are the indexes of the rule's keywords in the automaton.
	kw []int32
}

var (
	engineOnce sync.Once
	sharedEng  *engine
	engineErr  error
)

// defaultEngine builds the engine for gitleaks' default config once.
func defaultEngine() (*engine, error) {
	engineOnce.Do(func() {
		// gitleaks logs matched secrets at trace and debug level; make
		// sure nothing of it can ever reach a log.
		logging.Logger = zerolog.Nop()
		v := viper.New()
		v.SetConfigType("toml")
		if err := v.ReadConfig(strings.NewReader(config.DefaultConfig)); err != nil {
			engineErr = fmt.Errorf("reading gitleaks' default rules: %w", err)
			return
		}
		var vc config.ViperConfig
		if err := v.Unmarshal(&vc); err != nil {
			engineErr = fmt.Errorf("reading gitleaks' default rules: %w", err)
			return
		}
		cfg, err := vc.Translate()
		if err != nil {
			engineErr = fmt.Errorf("compiling gitleaks' default rules: %w", err)
			return
		}
		sharedEng = newEngine(cfg)
	})
	return sharedEng, engineErr
}

func newEngine(cfg config.Config) *engine {
	e := &engine{cfg: cfg}
	kwIndex := map[string]int32{}
	var keywords []string
	for _, id := range cfg.OrderedRules {
		r := cfg.Rules[id]
		cr := &crule{Rule: r, generic: isGenericRule(r.RuleID)}
		if r.Regex != nil {
			cr.reach = analyze(r.Regex.String(), r.Keywords)
		}
		cr.whole = !cr.reach.windowed()
		ri := int32(len(e.rules))
		e.rules = append(e.rules, cr)
		for _, k := range r.Keywords {
			i, ok := kwIndex[k]
			if !ok {
				i = int32(len(keywords))
				kwIndex[k] = i
				keywords = append(keywords, k)
				e.kwRules = append(e.kwRules, nil)
			}
			e.kwRules[i] = append(e.kwRules[i], ri)
			cr.kw = append(cr.kw, i)
		}
		if r.Regex != nil {
			for k, sre := range keywordSuffixes(r.Regex.String(), r.Keywords) {
				if cr.suffix == nil {
					cr.suffix = map[int32]*regexp.Regexp{}
				}
				cr.suffix[kwIndex[k]] = sre
			}
		}
	}
	for _, k := range assignKeywords {
		if _, ok := kwIndex[k]; !ok {
			kwIndex[k] = int32(len(keywords))
			keywords = append(keywords, k)
			e.kwRules = append(e.kwRules, nil)
		}
	}
	e.assignKW = make([]bool, len(keywords))
	for _, k := range assignKeywords {
		e.assignKW[kwIndex[k]] = true
	}
	e.ac = newACMachine(keywords)
	return e
}

// assignKeywords open lines to the assignment heuristics (context.go).
var assignKeywords = []string{
	"password", "passwd", "pwd", "pass", "secret", "token", "key", "credential", "creds", "dsn",
	"salt", "pepper", "webhook", "passphrase", "://",
}

// scratch is per-call working memory, pooled to keep allocations down.
type scratch struct {
	hits        []acHit
	nl          []int // offsets of '\n'
	present     []bool
	applies     []bool
	wins        [][]lineRange
	keep        []bool
	hits2       []acHit // keyword hits in decoded text
	decKW       []bool  // keywords found in decoded text
	viableWhole []bool  // whole-file rules with a viable keyword hit
	present2    []bool  // keywords in the file or its decoded text
	folded      bool    // the file's hits come from a case-folded copy
	// specificOnly skips the generic rules.
	specificOnly bool
	nl2          []int // newlines in decoded text
}

type lineRange struct{ from, to int } // inclusive line indexes (0-based)

var scratchPool = sync.Pool{New: func() any { return new(scratch) }}

// detect returns gitleaks' findings for one file, as gitleaks' own
// Detect would for a fragment holding the whole file (StartLine 0-based,
// StartColumn with gitleaks' quirk).
func (e *engine) detect(path, raw string) []report.Finding {
	sc := scratchPool.Get().(*scratch)
	defer scratchPool.Put(sc)
	sc.specificOnly = false
	return e.detectWith(sc, path, raw)
}

// detectSpecific is detect without the generic rules, for naming the
// provider of a value.
func (e *engine) detectSpecific(path, raw string) []report.Finding {
	sc := scratchPool.Get().(*scratch)
	defer scratchPool.Put(sc)
	sc.specificOnly = true
	defer func() { sc.specificOnly = false }()
	return e.detectWith(sc, path, raw)
}

// detectWith is detect with caller-owned scratch memory; on return
// sc.hits holds the keyword hits and sc.nl the newline offsets of raw.
func (e *engine) detectWith(sc *scratch, path, raw string) []report.Finding {
	sc.hits, sc.nl = sc.hits[:0], sc.nl[:0]
	if raw == "" {
		return nil
	}
	sc.nl = newlines(raw, sc.nl)
	if e.pathAllowed(e.cfg.Allowlists, path) {
		return nil
	}
	folded := foldHazard(raw)
	sc.folded = folded
	if folded {
		sc.hits = e.foldedHits(raw, sc.hits)
	} else {
		sc.hits = e.ac.find(raw, sc.hits)
	}
	p := pass{frag: raw, fragNL: sc.nl, cur: raw, curNL: sc.nl, hits: sc.hits, folded: folded}
	findings := e.runPass(sc, path, p, nil)
	for _, r := range e.rules {
		if r.Regex == nil && e.ruleApplies(r, path, nil) {
			// A path-only rule matched the path.
			findings = append(findings, report.Finding{
				RuleID: r.RuleID, Description: r.Description, File: path,
				Match: "file detected: " + path, Tags: r.Tags,
			})
		}
	}
	findings = e.decoded(sc, path, raw, findings)
	return filterGeneric(findings)
}

// pass is one scan of a text: the original text itself, or one of
// gitleaks' decoding passes over it.
type pass struct {
	frag   string // the fragment's text: locations are computed on it
	fragNL []int
	cur    string // the text the rules run on (decoded in later passes)
	curNL  []int
	hits   []acHit // keyword hits in cur
	folded bool    // hits come from a case-folded copy: offsets are approximate
	segs   []*codec.EncodedSegment
}

// viable reports whether keyword hit h can be part of a match of r, by
// the rule's suffix check (see keywordSuffixes). Case-folded text has
// approximate offsets: every hit is viable there.
func (r *crule) viable(p pass, h acHit) bool {
	sre := r.suffix[h.kw]
	if sre == nil || p.folded {
		return true
	}
	end := int(h.end)
	return sre.MatchString(p.cur[end-1 : min(len(p.cur), end+suffixProbe)])
}

// window returns the lines of p.cur a match of r holding the keyword
// hit [start,end) on line can span: as many as its newlines allow, cut
// further by its byte bounds (not in case-folded text, where offsets
// are approximate).
func (r *crule) window(p pass, start, end, line, lastLine int) (from, to int) {
	from, to = max(0, line-r.reach.before.nl), min(lastLine, line+r.reach.after.nl)
	if p.folded {
		return from, to
	}
	if b := r.reach.before.by; b < unbounded && start-b > 0 {
		from = max(from, lineOf(p.curNL, start-b))
	}
	if a := r.reach.after.by; a < unbounded && end+a < len(p.cur) {
		to = min(to, lineOf(p.curNL, end+a))
	}
	switch in := r.reach.inner; {
	case in < 0:
		to = min(to, line)
	case in < unbounded && start+in < len(p.cur):
		to = min(to, lineOf(p.curNL, start+in)+1)
	}
	return from, to
}

// lineOf returns the 0-based line of byte offset off.
func lineOf(nl []int, off int) int { return sort.SearchInts(nl, off) }

// runPass runs every applicable rule over the windows of cur around its
// keyword hits (or over all of cur) and appends the findings.
func (e *engine) runPass(sc *scratch, path string, p pass, out []report.Finding) []report.Finding {
	nRules := len(e.rules)
	sc.present = resetBools(sc.present, len(e.ac.keywords))
	sc.applies = resetBools(sc.applies, nRules)
	if cap(sc.wins) < nRules {
		sc.wins = make([][]lineRange, nRules)
	}
	sc.wins = sc.wins[:nRules]
	for i := range sc.wins {
		sc.wins[i] = sc.wins[i][:0]
	}
	for _, h := range p.hits {
		sc.present[h.kw] = true
	}
	for ri, r := range e.rules {
		if r.Regex != nil && !(sc.specificOnly && r.generic) && e.ruleApplies(r, path, sc.present) {
			sc.applies[ri] = true
		}
	}
	// A rule that must see the whole file still needs one keyword hit
	// that its suffix check lets through.
	sc.viableWhole = resetBools(sc.viableWhole, nRules)
	for _, h := range p.hits {
		for _, ri := range e.kwRules[h.kw] {
			if r := e.rules[ri]; r.whole && sc.applies[ri] && !sc.viableWhole[ri] && r.viable(p, h) {
				sc.viableWhole[ri] = true
			}
		}
	}
	for ri, r := range e.rules {
		if r.whole && len(r.kw) > 0 && !sc.viableWhole[ri] {
			sc.applies[ri] = false
		}
	}
	// Windows around keyword hits for windowed rules: whole lines, as
	// many as a match can span around the keyword (by its newlines and
	// by its bytes, whichever is tighter).
	lastLine := len(p.curNL) // index of the last line
	for _, h := range p.hits {
		line := -1
		end := int(h.end)
		start := end - len(e.ac.keywords[h.kw])
		for _, ri := range e.kwRules[h.kw] {
			r := e.rules[ri]
			if r.whole || !sc.applies[ri] {
				continue
			}
			if !r.viable(p, h) {
				continue
			}
			if line < 0 {
				// Keywords hold no newline: the line of the keyword's
				// last byte is its line.
				line = sort.SearchInts(p.curNL, end-1)
			}
			from, to := r.window(p, start, end, line, lastLine)
			w := lineRange{from, to}
			ws := sc.wins[ri]
			if n := len(ws); n > 0 && w.from <= ws[n-1].to+1 {
				ws[n-1].to = max(ws[n-1].to, w.to)
			} else {
				ws = append(ws, w)
			}
			sc.wins[ri] = ws
		}
	}
	for ri, r := range e.rules {
		if !sc.applies[ri] {
			continue
		}
		if r.whole {
			out = e.runRule(r, path, p, 0, len(p.cur), out)
			continue
		}
		for _, w := range sc.wins[ri] {
			from := 0
			if w.from > 0 {
				from = p.curNL[w.from-1] + 1
			}
			to := len(p.cur)
			if w.to < len(p.curNL) {
				to = p.curNL[w.to] + 1
			}
			out = e.runRule(r, path, p, from, to, out)
		}
	}
	return out
}

// ruleApplies mirrors gitleaks' per-rule gates: its path regex, its path
// allowlists and its keywords.
func (e *engine) ruleApplies(r *crule, path string, present []bool) bool {
	if r.SkipReport {
		return false
	}
	if r.Regex != nil && len(r.kw) > 0 {
		hit := false
		for _, k := range r.kw {
			if present[k] {
				hit = true
				break
			}
		}
		if !hit {
			return false
		}
	}
	if r.Path != nil && !r.Path.MatchString(path) {
		return false
	}
	if e.pathAllowed(r.Allowlists, path) {
		return false
	}
	return r.Regex != nil || r.Path != nil
}

// pathAllowed mirrors gitleaks' checkCommitOrPathAllowed for a fragment
// without a commit.
func (e *engine) pathAllowed(lists []*config.Allowlist, path string) bool {
	if path == "" {
		return false
	}
	for _, a := range lists {
		pathOK := anyMatch(a.Paths, path)
		if a.MatchCondition == config.AllowlistMatchAnd {
			if len(a.Regexes) > 0 || len(a.StopWords) > 0 {
				continue // checked per finding
			}
			if len(a.Commits) > 0 {
				continue // no commit here: the AND can never hold
			}
			if len(a.Paths) > 0 && pathOK {
				return true
			}
			continue
		}
		if pathOK {
			return true
		}
	}
	return false
}

// anyMatch is Allowlist.PathAllowed without the joined regex, which is
// one big alternation that Go runs on its slowest engine; the patterns
// one by one mostly run on literal prefixes.
func anyMatch(res []*regexp.Regexp, s string) bool {
	for _, re := range res {
		if re.MatchString(s) {
			return true
		}
	}
	return false
}

// runRule runs one rule's regex over p.cur[from:to] and turns matches
// into findings exactly as gitleaks' detectRule does.
func (e *engine) runRule(r *crule, path string, p pass, from, to int, out []report.Finding) []report.Finding {
	matches := r.Regex.FindAllStringIndex(p.cur[from:to], -1)
	for _, m := range matches {
		start, end := m[0]+from, m[1]+from
		secret := strings.Trim(p.cur[start:end], "\n")
		var tags []string
		currentLine := ""
		if len(p.segs) > 0 {
			segs := codec.SegmentsWithDecodedOverlap(p.segs, start, end)
			if len(segs) == 0 {
				continue // not decoded text: an earlier pass had it
			}
			adj := codec.AdjustMatchIndex(segs, []int{start, end})
			start, end = adj[0], adj[1]
			tags = codec.Tags(segs)
			currentLine = codec.CurrentLine(segs, p.cur)
		} else {
			end = start + len(secret)
		}
		loc := locate(p.fragNL, p.frag, start, end)
		if end > loc.endLineIndex {
			loc.endLineIndex = end
		}
		f := report.Finding{
			RuleID:      r.RuleID,
			Description: r.Description,
			StartLine:   loc.startLine,
			EndLine:     loc.endLine,
			StartColumn: loc.startColumn,
			EndColumn:   loc.endColumn,
			Line:        p.frag[loc.startLineIndex:loc.endLineIndex],
			Match:       secret,
			Secret:      secret,
			File:        path,
			Tags:        append(append([]string{}, r.Tags...), tags...),
		}
		if strings.Contains(f.Line, allowSignature) {
			continue
		}
		if currentLine == "" {
			currentLine = f.Line
		}
		if groups := r.Regex.FindStringSubmatch(f.Secret); len(groups) >= 2 {
			if r.SecretGroup > 0 {
				if len(groups) <= r.SecretGroup {
					continue
				}
				f.Secret = groups[r.SecretGroup]
			} else {
				for _, g := range groups[1:] {
					if g != "" {
						f.Secret = g
						break
					}
				}
			}
		}
		ent := shannonEntropy(f.Secret)
		f.Entropy = float32(ent)
		if r.Entropy != 0 && ent <= r.Entropy {
			continue
		}
		if findingAllowed(f, path, currentLine, e.cfg.Allowlists) || findingAllowed(f, path, currentLine, r.Allowlists) {
			continue
		}
		out = append(out, f)
	}
	return out
}

// findingAllowed mirrors gitleaks' checkFindingAllowed for a fragment
// without a commit.
func findingAllowed(f report.Finding, path, line string, lists []*config.Allowlist) bool {
	for _, a := range lists {
		target := f.Secret
		switch a.RegexTarget {
		case "match":
			target = f.Match
		case "line":
			target = line
		}
		regexOK := target != "" && anyMatch(a.Regexes, target)
		stopOK, _ := a.ContainsStopWord(f.Secret)
		if a.MatchCondition == config.AllowlistMatchAnd {
			checks := []bool{}
			if len(a.Commits) > 0 {
				checks = append(checks, false)
			}
			if len(a.Paths) > 0 {
				checks = append(checks, anyMatch(a.Paths, path))
			}
			if len(a.Regexes) > 0 {
				checks = append(checks, regexOK)
			}
			if len(a.StopWords) > 0 {
				checks = append(checks, stopOK)
			}
			all := true
			for _, c := range checks {
				all = all && c
			}
			if all {
				return true
			}
			continue
		}
		if regexOK || stopOK {
			return true
		}
	}
	return false
}

// location is where a match sits, computed as gitleaks computes it.
type location struct {
	startLine, endLine           int
	startColumn, endColumn       int
	startLineIndex, endLineIndex int
}

// locate reproduces gitleaks' location() (including its columns, which
// are one too high after the first line) using the sorted newline
// offsets nl instead of a linear scan.
func locate(nl []int, raw string, start, end int) location {
	var loc location
	idx := nl
	if len(idx) == 0 {
		idx = []int{len(raw)}
	}
	prev := func(k int) int {
		if k == 0 {
			return 0
		}
		return idx[k-1]
	}
	// Start: the first k with prev(k) <= start < idx[k].
	k := sort.Search(len(idx), func(i int) bool { return idx[i] > start })
	lineSet := k < len(idx)
	if lineSet {
		loc.startLine, loc.endLine = k, k
		loc.startColumn = start - prev(k) + 1
		loc.startLineIndex = prev(k)
		loc.endLineIndex = idx[k]
	}
	// End: the k with prev(k) < end <= idx[k].
	j := sort.Search(len(idx), func(i int) bool { return idx[i] >= end })
	if j < len(idx) && prev(j) < end {
		loc.endLine = j
		loc.endColumn = end - prev(j)
		loc.endLineIndex = idx[j]
	}
	if !lineSet {
		last := idx[len(idx)-1]
		loc.startColumn = start - last + 1
		loc.endColumn = end - last
		loc.startLine = len(idx)
		loc.endLine = len(idx)
		i := 0
		for end+i < len(raw) && raw[end+i] != '\n' && raw[end+i] != '\r' {
			i++
		}
		loc.endLineIndex = end + i
	}
	return loc
}

// decoded runs gitleaks' decoding passes when the file holds encoded
// text. gitleaks decodes every base64, hex, percent and unicode-escaped
// run it finds and scans the decoded text again (up to five times),
// reporting what overlaps decoded text. Finding the runs costs a regex
// over the whole file, and almost no file has such text, so this first
// finds the lines that do (a cheap byte scan, confirmed by gitleaks'
// decoder on just those lines), then runs the passes on a copy of the
// file that keeps only the lines a match overlapping decoded text can
// touch — the encoded lines, the windows of keyword hits that reach
// them, and the reach of keywords that decoding reveals — with every
// other line blanked, so line numbers and columns stay put.
func (e *engine) decoded(sc *scratch, path, raw string, out []report.Finding) []report.Finding {
	nLines := len(sc.nl) + 1
	sc.keep = resetBools(sc.keep, nLines)
	sc.decKW = resetBools(sc.decKW, len(e.ac.keywords))
	var runs []lineRange
	dec := codec.NewDecoder()
	lineStart := 0
	runStart, runLine := -1, 0
	flush := func(end, endLine int) {
		if runStart < 0 {
			return
		}
		cur, segs := dec.Decode(raw[runStart:end], nil)
		runStart = -1
		if len(segs) == 0 {
			return
		}
		runs = append(runs, lineRange{runLine, endLine})
		// Keywords that decoding reveals, at every depth.
		for depth := 1; ; depth++ {
			var hits []acHit
			if foldHazard(cur) {
				hits = e.foldedHits(cur, sc.hits2[:0])
			} else {
				hits = e.ac.find(cur, sc.hits2[:0])
			}
			sc.hits2 = hits
			for _, h := range hits {
				sc.decKW[h.kw] = true
			}
			if depth == maxDecodeDepth {
				break
			}
			if cur, segs = dec.Decode(cur, segs); len(segs) == 0 {
				break
			}
		}
	}
	for li := 0; li < nLines; li++ {
		lineEnd := len(raw)
		if li < len(sc.nl) {
			lineEnd = sc.nl[li] + 1
		}
		if maybeEncoded(raw[lineStart:lineEnd]) {
			if runStart < 0 {
				runStart, runLine = lineStart, li
			}
		} else {
			flush(lineStart, li-1)
		}
		lineStart = lineEnd
	}
	flush(len(raw), nLines-1)
	if len(runs) == 0 {
		return out
	}

	frag := raw
	if !e.keepDecodeLines(sc, path, raw, runs) {
		var b strings.Builder
		b.Grow(len(raw) / 4)
		lineStart = 0
		for li := 0; li < nLines; li++ {
			lineEnd := len(raw)
			if li < len(sc.nl) {
				lineEnd = sc.nl[li] + 1
			}
			if sc.keep[li] {
				b.WriteString(raw[lineStart:lineEnd])
			} else if li < len(sc.nl) {
				b.WriteByte('\n')
			}
			lineStart = lineEnd
		}
		frag = b.String()
	}
	p := pass{frag: frag, fragNL: newlines(frag, nil)}
	cur, segs := frag, []*codec.EncodedSegment(nil)
	dec = codec.NewDecoder()
	for depth := 1; depth <= maxDecodeDepth; depth++ {
		cur, segs = dec.Decode(cur, segs)
		if len(segs) == 0 {
			break
		}
		p.cur, p.segs = cur, segs
		p.curNL = newlines(cur, sc.nl2[:0])
		sc.nl2 = p.curNL
		if p.folded = foldHazard(cur); p.folded {
			p.hits = e.foldedHits(cur, sc.hits2[:0])
		} else {
			p.hits = e.ac.find(cur, sc.hits2[:0])
		}
		sc.hits2 = p.hits
		out = e.runPass(sc, path, p, out)
	}
	return out
}

// keepDecodeLines marks in sc.keep the lines the decoding passes need
// around the encoded runs. It returns true when they need the whole file:
// when a rule that must see whole files applies.
func (e *engine) keepDecodeLines(sc *scratch, path, raw string, runs []lineRange) bool {
	nLines := len(sc.nl) + 1
	present := resetBools(sc.present2, len(sc.decKW))
	sc.present2 = present
	for k := range present {
		present[k] = sc.decKW[k] || sc.present[k]
	}
	// runLines[i] counts run lines before line i, to test windows.
	runLines := make([]int32, nLines+1)
	inRun := make([]bool, nLines)
	for _, rn := range runs {
		for l := rn.from; l <= rn.to; l++ {
			inRun[l] = true
		}
	}
	for i := 0; i < nLines; i++ {
		runLines[i+1] = runLines[i]
		if inRun[i] {
			runLines[i+1]++
		}
	}
	p := pass{cur: raw, curNL: sc.nl, folded: sc.folded}
	// viable: a hit in the file passes its rule's suffix check, unless
	// the text after it is encoded (decoding may change it).
	viable := func(r *crule, h acHit) bool {
		end := int(h.end)
		l0, l1 := lineOf(sc.nl, end-1), lineOf(sc.nl, min(len(raw)-1, end+suffixProbe))
		return runLines[l1+1]-runLines[l0] > 0 || r.viable(p, h)
	}
	// Rules that run over whole files: an unbounded one needs the whole
	// file; a bounded one the lines its matches can span around a run,
	// and the lines of its keywords, which open its keyword gate.
	before, after := 0, 0
	for _, r := range e.rules {
		if !r.whole || r.Regex == nil || !e.ruleApplies(r, path, present) {
			continue
		}
		ok := len(r.kw) == 0
		for _, k := range r.kw {
			ok = ok || sc.decKW[k]
		}
		for _, h := range sc.hits {
			if ok {
				break
			}
			if slices.Contains(r.kw, h.kw) && viable(r, h) {
				ok = true
			}
		}
		if ok {
			if r.reach.total.nl >= unbounded {
				return true
			}
			before, after = max(before, r.reach.total.nl), max(after, r.reach.total.nl)
			for _, h := range sc.hits {
				if slices.Contains(r.kw, h.kw) {
					sc.keep[sort.SearchInts(sc.nl, int(h.end)-1)] = true
				}
			}
		}
	}
	// Keywords revealed by decoding sit inside a run: keep the reach of
	// their rules around every run.
	for k, on := range sc.decKW {
		if !on {
			continue
		}
		for _, ri := range e.kwRules[k] {
			r := e.rules[ri]
			if r.Regex != nil && e.ruleApplies(r, path, present) {
				before, after = max(before, r.reach.before.nl), max(after, r.reach.after.nl)
			}
		}
	}
	for _, rn := range runs {
		for l := max(0, rn.from-before); l <= min(nLines-1, rn.to+after); l++ {
			sc.keep[l] = true
		}
	}
	// Windows of keyword hits in the file that reach a run. The suffix
	// checks are skipped: decoding may change what follows a keyword.
	for _, h := range sc.hits {
		end := int(h.end)
		start := end - len(e.ac.keywords[h.kw])
		line := sort.SearchInts(sc.nl, end-1)
		for _, ri := range e.kwRules[h.kw] {
			r := e.rules[ri]
			if r.whole || !sc.applies[ri] {
				continue
			}
			from, to := r.window(p, start, end, line, nLines-1)
			if runLines[to+1]-runLines[from] > 0 {
				for l := from; l <= to; l++ {
					sc.keep[l] = true
				}
			}
		}
	}
	return false
}

func isDecoded(f report.Finding) bool {
	for _, t := range f.Tags {
		if strings.HasPrefix(t, "decoded:") {
			return true
		}
	}
	return false
}

var (
	isHex   [256]bool
	isB64ch [256]bool
	b64val  [256]int8 // value in the standard or URL alphabet, -1 if none
	likely  [256]bool // gitleaks' "likely base64" characters
)

func init() {
	for _, c := range "0123456789abcdefABCDEF" {
		isHex[c] = true
	}
	for i := range b64val {
		b64val[i] = -1
	}
	const std = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/"
	for i := 0; i < len(std); i++ {
		b64val[std[i]] = int8(i)
		isB64ch[std[i]] = true
	}
	b64val['-'], b64val['_'] = 62, 63
	isB64ch['-'], isB64ch['_'] = true, true
	for _, c := range "0123456789+/-_" {
		likely[c] = true
	}
}

// maybeEncoded reports whether a line could hold text that gitleaks'
// decoder turns into a non-empty segment: a percent escape of a printable
// byte, a unicode escape or code point, or a base64 or hex run that could
// decode to printable ASCII. It may say yes wrongly, never no.
func maybeEncoded(line string) bool {
	// U+XXXX code points ('U' and '+' are base64 characters too).
	for off := 0; ; {
		i := strings.Index(line[off:], "U+")
		if i < 0 {
			break
		}
		if hex4(line[off+i+2:]) {
			return true
		}
		off += i + 2
	}
	for i := 0; i < len(line); i++ {
		c := line[i]
		if isB64ch[c] {
			j := i + 1
			for j < len(line) && isB64ch[line[j]] {
				j++
			}
			if j-i >= 16 && (b64Printable(line[i:j]) || hexPrintable(line[i:j])) {
				return true
			}
			i = j - 1
			continue
		}
		switch c {
		case '%':
			if i+2 < len(line) && isHex[line[i+1]] && isHex[line[i+2]] {
				if v := unhex(line[i+1])<<4 | unhex(line[i+2]); v > 0x08 && v < 0x7f {
					return true
				}
			}
		case '\\':
			if i+5 < len(line) && (line[i+1] == 'u' || line[i+1] == 'U') && hex4(line[i+2:]) {
				return true
			}
		}
	}
	return false
}

// b64Printable reports whether some suffix of run, 16 or more characters
// long, could decode as base64 to printable ASCII. gitleaks' base64 match
// always ends where the run ends, and printable output needs the top bit
// of every decoded byte clear, which constrains the first three
// characters of every 4-character group.
func b64Printable(run string) bool {
	e := len(run)
	for r := 0; r < 4; r++ {
		// Groups start at offsets congruent to r mod 4; find where the
		// last group that cannot decode to ASCII ends.
		qmin := r
		for g := r; g < e; g += 4 {
			if !asciiGroup(run[g:min(g+4, e)]) {
				qmin = g + 4
			}
		}
		if e-qmin >= 16 && hasLikely(run[qmin:]) {
			return true
		}
	}
	return false
}

// asciiGroup reports whether a base64 group can decode to bytes below 0x80.
func asciiGroup(g string) bool {
	v0 := b64val[g[0]]
	if v0 < 0 || v0 >= 32 {
		return false
	}
	// The second byte exists only with three characters, the third
	// only with four.
	if len(g) > 2 && b64val[g[1]]&8 != 0 {
		return false
	}
	if len(g) > 3 && b64val[g[2]]&2 != 0 {
		return false
	}
	return true
}

func hasLikely(s string) bool {
	for i := 0; i < len(s); i++ {
		if likely[s[i]] {
			return true
		}
	}
	return false
}

// hexPrintable reports whether a hex stretch of 32 or more characters in
// run could decode to printable ASCII: gitleaks' hex match ends where the
// stretch ends, and every byte needs a high nibble of 7 or less.
func hexPrintable(run string) bool {
	for i := 0; i < len(run); i++ {
		if !isHex[run[i]] {
			continue
		}
		j := i
		for j < len(run) && isHex[run[j]] {
			j++
		}
		if j-i >= 32 {
			n := 0
			for k := j - 2; k >= i && run[k] >= '0' && run[k] <= '7'; k -= 2 {
				n += 2
			}
			if n >= 32 {
				return true
			}
		}
		i = j
	}
	return false
}

func unhex(c byte) int {
	switch {
	case c >= '0' && c <= '9':
		return int(c - '0')
	case c >= 'a' && c <= 'f':
		return int(c-'a') + 10
	default:
		return int(c-'A') + 10
	}
}

func hex4(s string) bool {
	return len(s) >= 4 && isHex[s[0]] && isHex[s[1]] && isHex[s[2]] && isHex[s[3]]
}

// filterGeneric drops a generic finding when a specific rule found the
// same secret on the same line, as gitleaks' filter does.
func filterGeneric(findings []report.Finding) []report.Finding {
	out := findings[:0:0]
	for _, f := range findings {
		keep := true
		if strings.Contains(strings.ToLower(f.RuleID), "generic") {
			for _, g := range findings {
				if f.StartLine == g.StartLine && f.Commit == g.Commit && f.RuleID != g.RuleID &&
					strings.Contains(g.Secret, f.Secret) && !strings.Contains(strings.ToLower(g.RuleID), "generic") {
					keep = false
					break
				}
			}
		}
		if keep {
			out = append(out, f)
		}
	}
	return out
}

// shannonEntropy is gitleaks' entropy measure, in bits per character.
func shannonEntropy(s string) float64 {
	if s == "" {
		return 0
	}
	counts := map[rune]int{}
	for _, r := range s {
		counts[r]++
	}
	inv := 1.0 / float64(len(s))
	h := 0.0
	for _, c := range counts {
		f := float64(c) * inv
		h -= f * math.Log2(f)
	}
	return h
}

// foldedHits finds keyword hits in a text where the Kelvin sign and the
// long s stand for k and s, as case-insensitive regexes read them. Hit
// offsets point into the original text.
func (e *engine) foldedHits(raw string, hits []acHit) []acHit {
	var b strings.Builder
	b.Grow(len(raw))
	orig := make([]int32, 0, len(raw))
	for i := 0; i < len(raw); {
		switch {
		case strings.HasPrefix(raw[i:], "\u212a"):
			b.WriteByte('k')
			orig = append(orig, int32(i))
			i += len("\u212a")
		case strings.HasPrefix(raw[i:], "\u017f"):
			b.WriteByte('s')
			orig = append(orig, int32(i))
			i += len("\u017f")
		default:
			b.WriteByte(raw[i])
			orig = append(orig, int32(i))
			i++
		}
	}
	start := len(hits)
	hits = e.ac.find(b.String(), hits)
	for i := start; i < len(hits); i++ {
		hits[i].end = orig[hits[i].end-1] + 1
	}
	return hits
}

// foldHazard reports whether s holds the Kelvin sign or the long s, which
// case-insensitive regexes match as k and s.
func foldHazard(s string) bool {
	return strings.Contains(s, "\u212a") || strings.Contains(s, "\u017f")
}

func newlines(s string, nl []int) []int {
	off := 0
	for {
		i := strings.IndexByte(s[off:], '\n')
		if i < 0 {
			return nl
		}
		nl = append(nl, off+i)
		off += i + 1
	}
}

func resetBools(b []bool, n int) []bool {
	if cap(b) < n {
		return make([]bool, n)
	}
	b = b[:n]
	clear(b)
	return b
}
