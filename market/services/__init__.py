"""Writes of market data, one module a job: daily bars (`daily_bars`), scrape runs (`runs`),
split re-adjustment of scraped bars (`splits`), price file imports (`imports`), the listed issues
(`listing`), the provider's bars with their split factors (`provider_bars`) and the exchange's
own runs (`sync`)."""
