"""SMS and e-mail for what cannot wait when Telegram cannot deliver it.

- `texts`: plain text for SMS, cut to whole segments (GSM-7 or UCS-2), and e-mail bodies;
- `sms`: the HTTP client of a Twilio-shaped SMS provider and its answers;
- `mail`: sending e-mail over SMTP;
- `plan`: which outbox rows get a fallback, and what it says;
- `sender`: the loop that plans fallbacks and sends them, with the outbox's retries;
- `inbound`: answers by SMS (POST /sms/inbound), signed by the provider.
"""
