module example.com/billing-api

go 1.22
