package plan

import (
	"bytes"
	"cmp"
	"fmt"
	"path"
	"regexp"
	"strings"
	"text/template"
	"unicode"
)

// Environments the built-in file-name rules produce. Hardcoded values
// that no .env file shares get EnvShared.
const (
	EnvDev     = "dev"
	EnvStaging = "staging"
	EnvProd    = "prod"
	EnvTest    = "test"
	EnvShared  = "shared"
)

// envRank is the order in which a hardcoded value picks the .env secret
// to join when several hold its value: production first, since code that
// carries a literal runs there.
var envRank = map[string]int{EnvProd: 0, EnvStaging: 1, EnvDev: 2, EnvTest: 3, EnvShared: 4}

// envOrder is the order environments are listed and rolled out in.
var envOrder = map[string]int{EnvDev: 0, EnvTest: 1, EnvStaging: 2, EnvProd: 3, EnvShared: 5}

// CompareEnvs orders environments for display: dev, test, staging, prod,
// any others by name, then shared.
func CompareEnvs(x, y string) int {
	rank := func(e string) int {
		if r, ok := envOrder[e]; ok {
			return r
		}
		return 4
	}
	return cmp.Or(cmp.Compare(rank(x), rank(y)), cmp.Compare(x, y))
}

// envWords maps the part of an .env file name that names an environment
// (".env.<word>", "<word>.env") to the environment.
var envWords = map[string]string{
	"":            EnvDev,
	"local":       EnvDev,
	"dev":         EnvDev,
	"develop":     EnvDev,
	"development": EnvDev,
	"staging":     EnvStaging,
	"stage":       EnvStaging,
	"stg":         EnvStaging,
	"prod":        EnvProd,
	"production":  EnvProd,
	"prd":         EnvProd,
	"live":        EnvProd,
	"test":        EnvTest,
	"testing":     EnvTest,
	"ci":          EnvTest,
}

// EnvironmentOf returns the environment of an .env file at relPath (relative
// to its repo, slash-separated) in repo. overrides maps a file name, a
// repo-relative path, a "repo/path", or a path.Match pattern over any of
// them to an environment; the first rule that matches, in sorted key order,
// wins. Otherwise the built-in rules apply: .env, .env.local and
// .env.development are dev; .env.staging and .env.stg staging;
// .env.production and .env.prod prod; .env.test test; a trailing .local is
// ignored (.env.production.local is prod); any other .env.<word> is <word>.
func EnvironmentOf(repo, relPath string, overrides map[string]string) string {
	base := path.Base(relPath)
	if len(overrides) > 0 {
		cands := []string{base, relPath, repo + "/" + relPath}
		for _, k := range sortedKeys(overrides) {
			for _, c := range cands {
				if ok, _ := path.Match(k, c); ok || k == c {
					return overrides[k]
				}
			}
		}
	}
	word := strings.ToLower(base)
	switch {
	case strings.HasPrefix(word, ".env"):
		word = strings.TrimPrefix(strings.TrimPrefix(word, ".env"), ".")
	case strings.HasSuffix(word, ".env"):
		word = strings.TrimSuffix(word, ".env")
	}
	if word != "local" {
		word = strings.TrimSuffix(strings.TrimSuffix(word, ".local"), "local")
		word = strings.TrimSuffix(word, ".")
	}
	if env, ok := envWords[word]; ok {
		return env
	}
	return slug(word)
}

// ParseEnvMap parses "--env-map" text: comma-separated FILE=ENV pairs,
// e.g. ".env.qa=staging,.env.ci=test".
func ParseEnvMap(s string) (map[string]string, error) {
	return parsePairs(s, "env map", "FILE=ENV")
}

// ParseOwners parses "--owner" values: REPO=TEAM pairs (comma-separated
// or given one per flag).
func ParseOwners(vals []string) (map[string]string, error) {
	out := map[string]string{}
	for _, v := range vals {
		m, err := parsePairs(v, "owner", "REPO=TEAM")
		if err != nil {
			return nil, err
		}
		for k, o := range m {
			out[k] = o
		}
	}
	return out, nil
}

func parsePairs(s, what, form string) (map[string]string, error) {
	out := map[string]string{}
	for _, part := range strings.Split(s, ",") {
		part = strings.TrimSpace(part)
		if part == "" {
			continue
		}
		k, v, ok := strings.Cut(part, "=")
		k, v = strings.TrimSpace(k), strings.TrimSpace(v)
		if !ok || k == "" || v == "" {
			return nil, fmt.Errorf("bad %s entry %q: want %s", what, part, form)
		}
		out[k] = v
	}
	return out, nil
}

// words splits an identifier in any common style (UPPER_SNAKE, camelCase,
// kebab-case, dotted) into lower-case words: "anthropicAPIKey" gives
// [anthropic api key], "config.mapsKey" gives [config maps key].
func words(s string) []string {
	var out []string
	var cur []rune
	flush := func() {
		if len(cur) > 0 {
			out = append(out, strings.ToLower(string(cur)))
			cur = cur[:0]
		}
	}
	rs := []rune(s)
	for i, r := range rs {
		if !unicode.IsLetter(r) && !unicode.IsDigit(r) {
			flush()
			continue
		}
		if i > 0 && unicode.IsUpper(r) && len(cur) > 0 {
			prev := rs[i-1]
			nextLower := i+1 < len(rs) && unicode.IsLower(rs[i+1])
			if unicode.IsLower(prev) || unicode.IsDigit(prev) || (unicode.IsUpper(prev) && nextLower) {
				flush()
			}
		}
		cur = append(cur, r)
	}
	flush()
	return out
}

// lastSegment returns the part of a dotted or bracketed key path after
// its last separator ("window.APP_CONFIG.mapsKey" gives "mapsKey").
func lastSegment(key string) string {
	key = strings.TrimRight(key, "]\"' ")
	if i := strings.LastIndexAny(key, ".[\"'/:"); i >= 0 {
		return key[i+1:]
	}
	return key
}

// frameworkPrefixes are leading key words that only expose a variable to
// a front-end build; they say nothing about the secret's purpose.
var frameworkPrefixes = [][]string{
	{"next", "public"}, {"nuxt", "public"}, {"expo", "public"}, {"react", "app"},
	{"vite"}, {"vue", "app"}, {"gatsby"}, {"public"},
}

// serviceAliases are extra leading key words that name a service
// (HF_TOKEN is a huggingface token).
var serviceAliases = map[string][]string{
	"huggingface": {"hf", "hugging", "huggingface"},
	"github":      {"gh", "github"},
	"gitlab":      {"gl", "gitlab"},
	"google":      {"google", "gcp", "gcloud", "firebase"},
	"gcp":         {"google", "gcp", "gcloud"},
	"sendgrid":    {"sendgrid", "sg"},
	"postgres":    {"postgres", "postgresql", "pg"},
	"npm":         {"npm"},
	"aws":         {"aws", "amazon"},
}

func trimPrefixWords(ws []string) []string {
	for _, p := range frameworkPrefixes {
		if len(ws) > len(p) && equalWords(ws[:len(p)], p) {
			return ws[len(p):]
		}
	}
	return ws
}

func equalWords(a, b []string) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}

// trimService drops leading words of ws that name service (its words,
// or one alias word).
func trimService(ws []string, service string) []string {
	sw := words(service)
	if len(sw) > 0 && len(ws) >= len(sw) && equalWords(ws[:len(sw)], sw) {
		return ws[len(sw):]
	}
	for _, a := range serviceAliases[strings.ToLower(service)] {
		if len(ws) > 0 && ws[0] == a {
			return ws[1:]
		}
	}
	return ws
}

// startsWithService reports whether ws begins with the service's name or
// one of its aliases.
func startsWithService(ws []string, service string) bool {
	return len(trimService(ws, service)) < len(ws)
}

// Purpose derives a secret's purpose from its environment variable name
// and service: STRIPE_SECRET_KEY (stripe) gives "secret-key",
// ANTHROPIC_API_KEY gives "api-key", DATABASE_URL gives "database-url",
// VITE_MAPS_KEY (google) gives "maps-key".
func Purpose(key, service string) string {
	ws := trimService(trimPrefixWords(words(key)), service)
	if len(ws) == 0 {
		return "secret"
	}
	return strings.Join(ws, "-")
}

// EnvVarFor derives an environment variable name for a hardcoded finding
// from its key (the variable or property it was assigned to), service and
// rule: anthropicAPIKey gives ANTHROPIC_API_KEY; a key that does not name
// its service gets the service prefixed (mapsKey, google: GOOGLE_MAPS_KEY);
// without a key the rule id is used (stripe-access-token:
// STRIPE_ACCESS_TOKEN), or SECRET for generic rules.
func EnvVarFor(key, service, rule string) string {
	ws := words(lastSegment(key))
	if len(ws) == 0 {
		switch rule {
		case "", "entropy", "generic-api-key", "generic-secret":
			ws = []string{"secret"}
		default:
			ws = words(rule)
		}
	}
	if service != "" && knownProvider(service) && !startsWithService(ws, service) {
		ws = append(words(service), ws...)
	}
	return strings.ToUpper(strings.Join(ws, "_"))
}

var slugRun = regexp.MustCompile(`[^a-z0-9]+`)

// slug lower-cases s and turns every run of other characters into "-".
func slug(s string) string {
	return strings.Trim(slugRun.ReplaceAllString(strings.ToLower(s), "-"), "-")
}

// validName matches what a secret name may be: it must work as a GCP
// secret id, a Vault path segment and an AWS name segment.
var validName = regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9_.-]{0,199}$`)

// NameData is what a name template sees.
type NameData struct {
	// Service is the provider (stripe, anthropic, ...) or, when unknown,
	// the repo's base name.
	Service string
	// Purpose is derived from the key (secret-key, api-key, database-url).
	Purpose string
	// Env is the environment (dev, staging, prod, test, shared, ...).
	Env string
	// Key is the environment variable name.
	Key string
	// Repo is the base name of the repo of the secret's first source.
	Repo string
}

// DefaultNameTemplate gives names like stripe-secret-key-prod.
const DefaultNameTemplate = "{{.Service}}-{{.Purpose}}-{{.Env}}"

// nameTemplate is a parsed name template.
type nameTemplate struct {
	t       *template.Template
	builtin bool
}

func parseNameTemplate(s string) (*nameTemplate, error) {
	builtin := s == ""
	if builtin {
		s = DefaultNameTemplate
	}
	t, err := template.New("name").Option("missingkey=error").Parse(s)
	if err != nil {
		return nil, fmt.Errorf("bad name template: %w", err)
	}
	return &nameTemplate{t: t, builtin: builtin}, nil
}

func (nt *nameTemplate) render(d NameData) (string, error) {
	var b bytes.Buffer
	if err := nt.t.Execute(&b, d); err != nil {
		return "", fmt.Errorf("bad name template: %w", err)
	}
	name := strings.TrimSpace(b.String())
	if nt.builtin {
		// The built-in template gives lower-case kebab-case names.
		name = slug(name)
	}
	if !validName.MatchString(name) {
		return "", fmt.Errorf("the name template gave %q for %s (%s): a name must start with a letter or digit and hold only letters, digits, '-', '_' and '.' (at most 200)", name, d.Key, d.Env)
	}
	return name, nil
}

// providers maps known services to how people write their names.
var providers = map[string]string{
	"anthropic":    "Anthropic",
	"openai":       "OpenAI",
	"stripe":       "Stripe",
	"github":       "GitHub",
	"gitlab":       "GitLab",
	"slack":        "Slack",
	"sendgrid":     "SendGrid",
	"google":       "Google Cloud",
	"gcp":          "Google Cloud",
	"aws":          "AWS",
	"azure":        "Azure",
	"huggingface":  "Hugging Face",
	"npm":          "npm",
	"twilio":       "Twilio",
	"mailgun":      "Mailgun",
	"datadog":      "Datadog",
	"postgres":     "the database",
	"mysql":        "the database",
	"mongodb":      "the database",
	"redis":        "the Redis server",
	"shopify":      "Shopify",
	"square":       "Square",
	"paypal":       "PayPal",
	"cohere":       "Cohere",
	"mistral":      "Mistral",
	"groq":         "Groq",
	"digitalocean": "DigitalOcean",
	"heroku":       "Heroku",
	"vercel":       "Vercel",
	"netlify":      "Netlify",
	"cloudflare":   "Cloudflare",
	"sentry":       "Sentry",
	"linear":       "Linear",
	"notion":       "Notion",
	"atlassian":    "Atlassian",
	"jwt":          "",
}

// knownProvider reports whether service is a provider env2vault knows by
// name (as opposed to a repo name standing in for an unknown service).
func knownProvider(service string) bool {
	_, ok := providers[strings.ToLower(service)]
	return ok
}

// ProviderName returns how to write the provider of service in prose
// ("Stripe"), or "" when service is not a known provider.
func ProviderName(service string) string {
	return providers[strings.ToLower(service)]
}
