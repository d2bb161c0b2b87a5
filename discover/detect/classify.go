package detect

import (
	"net/url"
	"strconv"
	"strings"
	"unicode"

	"github.com/env2vault/env2vault/secret"
)

// Classes of a Verdict (the same strings as discover.Classification).
const (
	ClassSecret      = "secret"
	ClassConfig      = "config"
	ClassPlaceholder = "placeholder"
)

// Rules that env2vault adds to gitleaks' rule ids.
const (
	RuleURLPassword = "url-password" // a URL with a password in it
	RuleKeyName     = "key-name"     // the variable name says it holds a secret
	RuleEntropy     = "entropy"      // the value looks random
	RuleK8sSecret   = "kubernetes-secret"
)

// entropyThreshold is the Shannon entropy (bits per character) above
// which an unexplained value is taken for a secret.
const entropyThreshold = 4.3

// Verdict is the classification of one .env entry.
type Verdict struct {
	// Class is "secret", "config" or "placeholder".
	Class string
	// Reason says why in a few words; it never holds the value.
	Reason string
	// Rule is the rule that decided, for secrets: a gitleaks rule id,
	// "url-password", "key-name" or "entropy".
	Rule string
	// Service is the provider the value belongs to, when known.
	Service string
	// Hint is at most a known provider prefix of the value.
	Hint string
}

// ClassifyEntry decides whether the .env entry key=v holds a secret, a
// piece of configuration or a placeholder.
func (d *Detector) ClassifyEntry(key string, v secret.Value) Verdict {
	val := v.Reveal()
	trimmed := strings.TrimSpace(val)
	if trimmed == "" {
		return Verdict{Class: ClassPlaceholder, Reason: "empty"}
	}
	if why := placeholderReason(trimmed); why != "" {
		return Verdict{Class: ClassPlaceholder, Reason: why}
	}
	if u, ok := urlWithPassword(trimmed); ok {
		pw, _ := u.User.Password()
		if why := placeholderReason(pw); why != "" || isRef(pw) {
			return Verdict{Class: ClassPlaceholder, Reason: "url with placeholder password"}
		}
		return Verdict{Class: ClassSecret, Reason: "url with a password", Rule: RuleURLPassword,
			Service: schemeService(u.Scheme), Hint: Hint("", v)}
	}
	if rule, ok := d.providerRule(key, trimmed); ok {
		svc := ServiceForRule(rule)
		return Verdict{Class: ClassSecret, Reason: "provider rule " + rule, Rule: rule, Service: svc, Hint: Hint(svc, v)}
	}
	// A bare or unqualified KEY (SORT_KEY, CACHE_KEY) says less than
	// PASSWORD or API_KEY: its value must not be a plain word.
	strong := keyNameSecret(key, true)
	weak := !strong && keyNameSecret(key, false)
	if (strong || weak && !wordLike(trimmed)) && !looksConfigValue(trimmed) {
		return Verdict{Class: ClassSecret, Reason: "key name", Rule: RuleKeyName,
			Service: keyService(key), Hint: Hint("", v)}
	}
	if h, ok := randomLooking(trimmed); ok {
		return Verdict{Class: ClassSecret, Reason: "entropy " + strconv.FormatFloat(h, 'f', 1, 64), Rule: RuleEntropy,
			Service: keyService(key), Hint: Hint("", v)}
	}
	return Verdict{Class: ClassConfig, Reason: configReason(key, trimmed)}
}

// providerRule runs the provider rules over the entry written as a
// KEY=value line and returns the first specific (non-generic) rule.
func (d *Detector) providerRule(key, val string) (string, bool) {
	line := key + "=" + val + "\n"
	for _, f := range d.eng.detectSpecific("", line) {
		if !isGenericRule(f.RuleID) && strings.Contains(val, f.Secret) {
			return f.RuleID, true
		}
	}
	// A bare value too: some rules need no assignment around them.
	for _, f := range d.eng.detectSpecific("", val+"\n") {
		if !isGenericRule(f.RuleID) {
			return f.RuleID, true
		}
	}
	return "", false
}

func isGenericRule(id string) bool {
	return strings.Contains(id, "generic") || id == "kubernetes-secret-yaml"
}

// placeholderReason says why s is a placeholder, or "" when it is not.
func placeholderReason(s string) string {
	l := strings.ToLower(strings.TrimSpace(s))
	switch {
	case l == "":
		return "empty"
	case isRef(s):
		return "reference"
	case strings.HasPrefix(l, "<") && strings.HasSuffix(l, ">"):
		return "placeholder <...>"
	case strings.HasSuffix(l, "...") || strings.HasSuffix(l, "…"):
		return "truncated example"
	case strings.Contains(l, "your-") || strings.Contains(l, "your_") || strings.Contains(l, "-here") ||
		strings.Contains(l, "_here") || strings.Contains(l, "yourkey") || strings.Contains(l, "yoursecret"):
		return "placeholder text"
	case strings.Contains(l, "changeme") || strings.Contains(l, "change-me") || strings.Contains(l, "change_me") ||
		strings.Contains(l, "replace-me") || strings.Contains(l, "replace_me") || strings.Contains(l, "replaceme"):
		return "placeholder text"
	case strings.Contains(l, "xxxx") || strings.Contains(l, "****") || strings.Contains(l, "...."):
		return "placeholder text"
	case l == "xxx" || l == "todo" || l == "tbd" || l == "none" || l == "null" || l == "nil" ||
		l == "placeholder" || l == "example" || l == "dummy" || l == "redacted" || l == "secret" ||
		l == "password" || l == "token" || l == "test" || l == "fake":
		return "placeholder word"
	case strings.Contains(l, "placeholder") || strings.Contains(l, "redacted") || strings.Contains(l, "dummy"),
		// "example" marks sample keys (AKIA...EXAMPLE), but example.com
		// is an ordinary documentation host.
		strings.Contains(l, "example") && !strings.Contains(l, ".") && !strings.Contains(l, "://"):
		return "placeholder text"
	}
	return ""
}

// isRef reports whether s refers to a value held elsewhere: ${VAR},
// $VAR, ${{ secrets.X }}, {{ templates }}, vault:// and friends.
func isRef(s string) bool {
	s = strings.TrimSpace(s)
	l := strings.ToLower(s)
	for _, p := range []string{"vault://", "vault:", "op://", "sm://", "gcpsm://", "awssm://", "secretsmanager:",
		"arn:aws:secretsmanager:", "projects/", "ref+", "file://", "env:"} {
		if strings.HasPrefix(l, p) {
			return true
		}
	}
	if strings.HasPrefix(s, "${") && strings.HasSuffix(s, "}") && !strings.Contains(s[2:], "${") {
		return true
	}
	if strings.HasPrefix(s, "{{") && strings.HasSuffix(s, "}}") {
		return true
	}
	if strings.HasPrefix(s, "$") && len(s) > 1 && isEnvName(s[1:]) {
		return true
	}
	if strings.HasPrefix(s, "%") && strings.HasSuffix(s, "%") && len(s) > 2 && isEnvName(s[1:len(s)-1]) {
		return true
	}
	return false
}

func isEnvName(s string) bool {
	if s == "" {
		return false
	}
	for i, c := range s {
		if c == '_' || c >= 'A' && c <= 'Z' || c >= 'a' && c <= 'z' || i > 0 && c >= '0' && c <= '9' {
			continue
		}
		return false
	}
	return true
}

// urlWithPassword parses s as a URL carrying user:password@.
func urlWithPassword(s string) (*url.URL, bool) {
	if !strings.Contains(s, "://") || !strings.Contains(s, "@") {
		return nil, false
	}
	u, err := url.Parse(s)
	if err != nil || u.User == nil {
		return nil, false
	}
	pw, ok := u.User.Password()
	if !ok || pw == "" {
		return nil, false
	}
	return u, true
}

// schemeService names the service a connection URL belongs to.
func schemeService(scheme string) string {
	s := strings.ToLower(scheme)
	if i := strings.IndexByte(s, '+'); i > 0 {
		s = s[:i]
	}
	switch s {
	case "postgres", "postgresql", "pgsql":
		return "postgres"
	case "mysql", "mariadb":
		return "mysql"
	case "redis", "rediss":
		return "redis"
	case "amqp", "amqps":
		return "amqp"
	case "mongodb":
		return "mongodb"
	case "mssql", "sqlserver":
		return "mssql"
	case "smtp", "smtps":
		return "smtp"
	case "nats", "kafka", "ldap", "ldaps", "ftp", "sftp", "memcached", "clickhouse", "cassandra":
		return strings.TrimSuffix(s, "s")
	}
	return s
}

// keyService guesses a service from a variable name prefix
// (POSTGRES_PASSWORD -> postgres).
func keyService(key string) string {
	toks := nameTokens(key)
	for _, t := range toks {
		switch t {
		case "postgres", "postgresql", "pg", "pgpassword":
			return "postgres"
		case "mysql", "mariadb":
			return "mysql"
		case "redis":
			return "redis"
		case "rabbitmq", "amqp":
			return "amqp"
		case "mongo", "mongodb":
			return "mongodb"
		case "stripe", "anthropic", "openai", "github", "slack", "sendgrid", "twilio", "mailgun", "datadog",
			"sentry", "huggingface", "npm", "aws", "google", "gcp", "azure", "cloudflare", "heroku", "gitlab":
			if t == "gcp" {
				return "google"
			}
			return t
		case "hf":
			return "huggingface"
		}
	}
	return ""
}

// nameTokens splits a variable name into lower-case words on
// underscores, dashes, dots and camelCase boundaries.
func nameTokens(name string) []string {
	var toks []string
	var cur []rune
	rs := []rune(name)
	flush := func() {
		if len(cur) > 0 {
			toks = append(toks, strings.ToLower(string(cur)))
			cur = cur[:0]
		}
	}
	for i, r := range rs {
		switch {
		case r == '_' || r == '-' || r == '.' || r == ' ' || r == '/' || r == ':':
			flush()
		case unicode.IsUpper(r):
			// A new word starts at an upper-case letter that follows a
			// lower-case one, or that starts "Word" after an acronym.
			if i > 0 && (unicode.IsLower(rs[i-1]) || unicode.IsDigit(rs[i-1]) ||
				i+1 < len(rs) && unicode.IsLower(rs[i+1]) && unicode.IsUpper(rs[i-1])) {
				flush()
			}
			cur = append(cur, r)
		default:
			cur = append(cur, r)
		}
	}
	flush()
	return toks
}

var (
	// strongWords mark a name as holding a secret wherever they occur.
	strongWords = map[string]bool{
		"secret": true, "secrets": true, "token": true, "tokens": true, "password": true, "passwd": true,
		"pwd": true, "passphrase": true, "credential": true, "credentials": true, "creds": true,
		"apikey": true, "privatekey": true, "pat": true, "dsn": true, "webhook": true, "pass": true,
		"pw": true, "salt": true, "pepper": true,
	}
	// keyQualifiers make "<q> key" a secret key (API_KEY, SIGNING_KEY).
	keyQualifiers = map[string]bool{
		"api": true, "access": true, "secret": true, "private": true, "signing": true, "sign": true,
		"encryption": true, "encrypt": true, "master": true, "license": true, "licence": true,
		"service": true, "app": true, "auth": true, "client": true, "session": true, "jwt": true,
		"hmac": true, "aes": true, "crypto": true, "cipher": true, "admin": true, "write": true,
		"read": true, "server": true, "maps": true, "account": true, "ssh": true, "gpg": true,
		"pgp": true, "deploy": true, "subscription": true, "webhook": true, "cookie": true,
	}
	// configTails end names that describe a secret without holding one
	// (TOKEN_TTL, PASSWORD_MIN_LENGTH, SECRET_NAME, API_KEY_ID).
	configTails = map[string]bool{
		"ttl": true, "timeout": true, "expiry": true, "expires": true, "expiration": true, "length": true,
		"len": true, "size": true, "path": true, "file": true, "dir": true, "name": true, "id": true,
		"ids": true, "url": true, "uri": true, "host": true, "hostname": true, "port": true,
		"endpoint": true, "prefix": true, "header": true, "type": true, "algorithm": true, "alg": true,
		"enabled": true, "enable": true, "disabled": true, "count": true, "max": true, "min": true,
		"version": true, "mode": true, "rotation": true, "interval": true, "field": true, "env": true,
		"location": true, "region": true, "format": true, "policy": true, "scope": true, "scopes": true,
		"user": true, "username": true, "issuer": true, "audience": true, "kind": true, "label": true,
		"ref": true, "arn": true,
	}
)

// keyNameSecret reports whether a variable name says it holds a secret.
// strict (for source code) demands a strong word; otherwise a qualified
// KEY (API_KEY) or a bare KEY counts too.
func keyNameSecret(name string, strict bool) bool {
	toks := nameTokens(name)
	if len(toks) == 0 {
		return false
	}
	if configTails[toks[len(toks)-1]] {
		return false
	}
	for i, t := range toks {
		if strongWords[t] {
			return true
		}
		if t == "key" || t == "keys" {
			if i > 0 && keyQualifiers[toks[i-1]] {
				return true
			}
			if !strict && (len(toks) == 1 || i == len(toks)-1) {
				return true
			}
		}
		if strings.HasSuffix(t, "apikey") || strings.HasSuffix(t, "secret") || strings.HasSuffix(t, "token") ||
			strings.HasSuffix(t, "password") {
			return true
		}
	}
	return false
}

// wordLike reports values made of letters and separators only
// ("name", "user-profile", "a.b").
func wordLike(v string) bool {
	for i := 0; i < len(v); i++ {
		c := v[i]
		if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c == '-' || c == '_' || c == '.' || c == ':' || c == '/') {
			return false
		}
	}
	return true
}

// looksConfigValue reports values that are configuration whatever their
// name says: booleans and small numbers.
func looksConfigValue(v string) bool {
	if isBool(v) {
		return true
	}
	if _, err := strconv.ParseFloat(v, 64); err == nil && len(v) <= 6 {
		return true
	}
	return false
}

func isBool(v string) bool {
	switch strings.ToLower(v) {
	case "true", "false", "yes", "no", "on", "off", "enabled", "disabled":
		return true
	}
	return false
}

// randomLooking reports whether v looks like random key material rather
// than words, paths, URLs, numbers or identifiers, and its entropy.
func randomLooking(v string) (float64, bool) {
	if len(v) < 16 || len(v) > 4096 || strings.ContainsAny(v, " \t\n") {
		return 0, false
	}
	if strings.Contains(v, "://") || strings.HasPrefix(v, "/") || strings.HasPrefix(v, "./") {
		return 0, false
	}
	if isUUID(v) || isHexString(v) {
		return 0, false
	}
	var lower, upper, digit, other bool
	for _, c := range v {
		switch {
		case c >= 'a' && c <= 'z':
			lower = true
		case c >= 'A' && c <= 'Z':
			upper = true
		case c >= '0' && c <= '9':
			digit = true
		default:
			other = true
		}
	}
	classes := 0
	for _, b := range []bool{lower, upper, digit, other} {
		if b {
			classes++
		}
	}
	if classes < 2 || !digit && !other {
		return 0, false
	}
	h := shannonEntropy(v)
	return h, h >= entropyThreshold
}

func isUUID(v string) bool {
	if len(v) != 36 {
		return false
	}
	for i, c := range v {
		if i == 8 || i == 13 || i == 18 || i == 23 {
			if c != '-' {
				return false
			}
			continue
		}
		if !isHex[byte(c)] || c > 0x7f {
			return false
		}
	}
	return true
}

func isHexString(v string) bool {
	for i := 0; i < len(v); i++ {
		if !isHex[v[i]] {
			return false
		}
	}
	return true
}

// configNames are variables that hold configuration by convention.
var configNames = map[string]bool{
	"PORT": true, "HOST": true, "DEBUG": true, "LOG_LEVEL": true, "LOGLEVEL": true, "NODE_ENV": true,
	"ENV": true, "ENVIRONMENT": true, "APP_ENV": true, "TZ": true, "LANG": true, "PATH": true,
	"RUST_LOG": true, "GIN_MODE": true, "FLASK_ENV": true, "RAILS_ENV": true, "GO_ENV": true,
}

// configReason explains why a value is configuration.
func configReason(key, v string) string {
	switch {
	case configNames[strings.ToUpper(key)]:
		return "config key"
	case isBool(v):
		return "boolean"
	}
	if _, err := strconv.ParseFloat(v, 64); err == nil {
		return "number"
	}
	if strings.Contains(v, "://") {
		return "url without password"
	}
	if looksHostname(v) {
		return "hostname"
	}
	if strings.HasPrefix(v, "/") || strings.HasPrefix(v, "./") || strings.HasPrefix(v, "~/") {
		return "path"
	}
	return "low entropy"
}

func looksHostname(v string) bool {
	if !strings.Contains(v, ".") && v != "localhost" {
		return false
	}
	host := v
	if h, p, ok := strings.Cut(v, ":"); ok {
		if _, err := strconv.Atoi(p); err != nil {
			return false
		}
		host = h
	}
	for _, c := range host {
		if !(c == '.' || c == '-' || c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9') {
			return false
		}
	}
	return true
}
