package rewrite

import (
	"bytes"
	"fmt"
	"strings"

	"go.yaml.in/yaml/v3"
)

// Gitleaks pre-commit hook settings added to .pre-commit-config.yaml.
const (
	GitleaksRepo = "https://github.com/gitleaks/gitleaks"
	GitleaksRev  = "v8.30.1"
	GitleaksHook = "gitleaks"
)

// ensureGitignore returns .gitignore with the rules that keep local env
// files out of git: .env, .env.* and, after them, !.env.example. Rules
// already covered are not repeated.
func ensureGitignore(src string) string {
	var lines []string
	for _, l := range splitLines(src) {
		lines = append(lines, strings.TrimSpace(l))
	}
	is := func(l string, pats ...string) bool {
		for _, p := range pats {
			if l == p || l == "/"+p || l == "**/"+p {
				return true
			}
		}
		return false
	}
	hasEnv, hasStar, lastStar, lastExample := false, false, -1, -1
	for i, l := range lines {
		switch {
		case is(l, ".env", ".env*"):
			hasEnv = true
			if is(l, ".env*") {
				hasStar, lastStar = true, i
			}
		case is(l, ".env.*"):
			hasStar, lastStar = true, i
		case is(l, "!.env.example"):
			lastExample = i
		}
	}
	var add []string
	if !hasEnv {
		add = append(add, ".env")
	}
	if !hasStar {
		add = append(add, ".env.*")
	}
	if !hasStar || lastExample < lastStar {
		add = append(add, "!.env.example")
	}
	if len(add) == 0 {
		return src
	}
	out := src
	if out != "" && !strings.HasSuffix(out, "\n") {
		out += "\n"
	}
	if out != "" {
		out += "\n"
	}
	out += "# Local env files hold secrets or vault references: keep them out of git (env2vault).\n"
	out += strings.Join(add, "\n") + "\n"
	return out
}

// ensurePrecommit returns .pre-commit-config.yaml with the gitleaks hook:
// created when absent, the hook added to an existing gitleaks repo entry,
// or the repo entry appended. Comments survive (YAML node API); an
// already complete file comes back unchanged.
func ensurePrecommit(src string) (string, error) {
	if strings.TrimSpace(src) == "" {
		return "repos:\n" +
			"  # Blocks commits that contain secrets (added by env2vault).\n" +
			"  - repo: " + GitleaksRepo + "\n" +
			"    rev: " + GitleaksRev + "\n" +
			"    hooks:\n" +
			"      - id: " + GitleaksHook + "\n", nil
	}
	var doc yaml.Node
	if err := yaml.Unmarshal([]byte(src), &doc); err != nil {
		return "", fmt.Errorf(".pre-commit-config.yaml is not valid YAML: %w", err)
	}
	if doc.Kind != yaml.DocumentNode || len(doc.Content) == 0 || doc.Content[0].Kind != yaml.MappingNode {
		return "", fmt.Errorf(".pre-commit-config.yaml: want a mapping with a repos list at the top")
	}
	root := doc.Content[0]
	repos := mapGet(root, "repos")
	if repos == nil {
		repos = &yaml.Node{Kind: yaml.SequenceNode, Tag: "!!seq"}
		root.Content = append(root.Content, scalar("repos"), repos)
	}
	if repos.Kind != yaml.SequenceNode {
		return "", fmt.Errorf(".pre-commit-config.yaml: repos is not a list")
	}
	for _, r := range repos.Content {
		if r.Kind != yaml.MappingNode {
			continue
		}
		url := mapGet(r, "repo")
		if url == nil || strings.TrimSuffix(strings.TrimSuffix(url.Value, "/"), ".git") != GitleaksRepo {
			continue
		}
		hooks := mapGet(r, "hooks")
		if hooks == nil {
			hooks = &yaml.Node{Kind: yaml.SequenceNode, Tag: "!!seq"}
			r.Content = append(r.Content, scalar("hooks"), hooks)
		}
		for _, h := range hooks.Content {
			if id := mapGet(h, "id"); id != nil && id.Value == GitleaksHook {
				return src, nil
			}
		}
		hooks.Style &^= yaml.FlowStyle
		hooks.Content = append(hooks.Content, mapping("id", GitleaksHook))
		return encodeYAML(&doc)
	}
	entry := mapping("repo", GitleaksRepo, "rev", GitleaksRev)
	entry.HeadComment = "Blocks commits that contain secrets (added by env2vault)."
	entry.Content = append(entry.Content, scalar("hooks"),
		&yaml.Node{Kind: yaml.SequenceNode, Tag: "!!seq", Content: []*yaml.Node{mapping("id", GitleaksHook)}})
	repos.Content = append(repos.Content, entry)
	return encodeYAML(&doc)
}

func scalar(v string) *yaml.Node {
	return &yaml.Node{Kind: yaml.ScalarNode, Tag: "!!str", Value: v}
}

// mapping builds a mapping node from key, value pairs.
func mapping(kv ...string) *yaml.Node {
	m := &yaml.Node{Kind: yaml.MappingNode, Tag: "!!map"}
	for i := 0; i+1 < len(kv); i += 2 {
		m.Content = append(m.Content, scalar(kv[i]), scalar(kv[i+1]))
	}
	return m
}

// mapGet returns the value under key in mapping m, or nil.
func mapGet(m *yaml.Node, key string) *yaml.Node {
	if m == nil || m.Kind != yaml.MappingNode {
		return nil
	}
	for i := 0; i+1 < len(m.Content); i += 2 {
		if m.Content[i].Value == key {
			return m.Content[i+1]
		}
	}
	return nil
}

func encodeYAML(n *yaml.Node) (string, error) {
	var buf bytes.Buffer
	enc := yaml.NewEncoder(&buf)
	enc.SetIndent(2)
	if err := enc.Encode(n); err != nil {
		return "", err
	}
	if err := enc.Close(); err != nil {
		return "", err
	}
	return buf.String(), nil
}
