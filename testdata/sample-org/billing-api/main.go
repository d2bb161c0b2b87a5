// Command billing-api is a sample service for env2vault's tests. It prints
// a SHA-256 of each setting it reads, never the setting itself.
package main

import (
	"crypto/sha256"
	"fmt"
	"os"

	"example.com/billing-api/internal/ai"
)

func digest(s string) string {
	return fmt.Sprintf("%x", sha256.Sum256([]byte(s)))
}

func main() {
	stripeKey := os.Getenv("STRIPE_SECRET_KEY") // charges customers
	dbURL, ok := os.LookupEnv("DATABASE_URL")
	if !ok {
		fmt.Fprintln(os.Stderr, "DATABASE_URL is not set")
	}
	port := os.Getenv("PORT")
	logLevel := os.Getenv("LOG_LEVEL")

	fmt.Println("STRIPE_SECRET_KEY", digest(stripeKey))
	fmt.Println("DATABASE_URL", digest(dbURL))
	fmt.Println("ANTHROPIC_API_KEY", digest(ai.APIKey()))
	fmt.Println("PORT", port)
	fmt.Println("LOG_LEVEL", logLevel)
}
