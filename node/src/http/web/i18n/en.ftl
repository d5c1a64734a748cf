# Kawan web page — English (complete; the reference for translations).
lang-name = English

nav-home = Home
nav-bulk = Bulk check
nav-publish = Publish
nav-library = Typologies & techniques
nav-referrals = Referrals
nav-alerts = Alerts
nav-deconflict = Deconfliction
nav-cases = Cases
nav-network = Network
log-out = Log out
language = Language

search-button = Search
search-any-kind = any kind
search-placeholder = a phone number, t.me link, wallet, URL…
home-unread-why = partners published values you watch or hold in a case.
search-kind = kind
search-title = Search

home-title = Home
home-since = Since your last visit ({ $date })
home-last-day = In the last day
home-no-new = No new records from partners.
home-new = { $n } new record(s) from partners.
home-by-agency = By agency
home-by-kind = By kind
home-by-channel = By channel
home-waiting = Waiting for you
home-unread = { $n } unread alert(s)
home-latest = latest: { $agency } published
home-contacts = { $n } contact request(s) from partners
home-to-answer = to answer
home-expired = { $n } of this agency's indicator(s) past their validity: re-check or retract
home-revised = { $n } record(s) your cases use were revised by their authors
home-past-validity = Past their validity
home-revised-title = Revised since you last looked
home-network = Network
home-connected = { $n } of { $m } partner node(s) connected
home-details = details
home-weeks = The last { $n } weeks
chart-weekly-kind = Records per week, by kind
chart-weekly-agency = Records per week, by agency
chart-top-platforms = Top platforms
chart-top-countries = Top countries
chart-week-of = Week of
chart-records = records
chart-indicators = indicators
chart-others = Others
none-yet = None yet.

channel-network = Whole network
channel-group = Sharing group { $group }

kind-phone = Phone numbers
kind-email = Email addresses
kind-url = URLs
kind-domain = Domains
kind-ip = IP addresses
kind-telegram_handle = Telegram handles
kind-line_id = LINE ids
kind-wechat_id = WeChat ids
kind-social_profile = Social media profiles
kind-tron_address = TRON wallets
kind-evm_address = Ethereum-style wallets
kind-btc_address = Bitcoin wallets
kind-bank_account = Bank accounts
kind-company_name = Company names
kind-app_id = Apps
kind-image_hash = Image hashes
kind-typology = Typologies
kind-technique = Techniques
kind-referral = Referrals

# Tables of shared knowledge
col-value = Value
col-tlp = TLP
col-agency = Agency
col-confidence = Confidence
col-seen = First / last seen
col-sightings = Sightings
col-flags = Flags
flag-retracted = retracted
flag-revised = revised ×{ $n }
flag-revoked = author revoked
flag-equivocating = equivocating author
flag-false-positive = false positive ×{ $n }

# Search results
search-invalid = Not a valid value: { $error }
search-matched = Matched as
search-no-hit = No agency has shared this value.

# Cases
cases-title = Cases
case-title = Case { $reference }
cases-stay = Cases stay on this node. Nothing here is ever sent to another agency.
case-stays = This case stays on this node. Nothing here is ever sent to another agency.
cases-col-reference = Reference
cases-col-title = Title
cases-col-linked = Linked records
case-values = Values this case holds
case-values-note = Kept on this node. Watched: an alert is raised when a partner publishes one.
case-opted-out = This case is kept out of deconfliction: partners asking about its values get no hit from it.
case-deconflictable = Deconflictable: a partner asking about one learns only that this agency holds something on it.
case-add-value = Add a value (any form; its kind is recognised)
case-add = Add
case-ask = Ask the network who else holds this case's values (purpose, logged by each member)
case-deconflict = Deconflict this case
case-linked = Linked shared records
case-none = None.
case-others = Others on the same values
case-no-others = No other agency has published a value this case holds.
case-published = { $agency } published
case-see = see it

# One value of a kind
kind1-phone = Phone number
kind1-email = Email address
kind1-url = URL
kind1-domain = Domain
kind1-ip = IP address
kind1-telegram_handle = Telegram handle
kind1-line_id = LINE id
kind1-wechat_id = WeChat id
kind1-social_profile = Social media profile
kind1-tron_address = TRON wallet
kind1-evm_address = Ethereum-style wallet
kind1-btc_address = Bitcoin wallet
kind1-bank_account = Bank account
kind1-company_name = Company name
kind1-app_id = App
kind1-image_hash = Image hash

# Login
login-title = Log in
login-token = API token
login-button = Log in
login-help = Ask your node operator for a token (kawan token create NAME --role analyst).
login-unknown = Unknown or revoked token.
login-link-used = This login link was used or has expired.

# Alerts
alerts-title = Alerts
alerts-intro = { $n } unread alert(s). An alert is raised when a record arrives — from a partner or from a colleague here — whose value you watch, or that one of this agency's cases holds. Nothing about the match leaves this node.
alerts-col-when = When
alerts-col-who = Who published
alerts-col-value = Value
alerts-col-matched = Matched
alerts-watch-entry = watch entry { $id }
alerts-case = case { $id }
alerts-seen-by = seen by { $name }
alerts-mark-seen = Mark seen
alerts-none = No alerts yet: new ones appear here as they arrive.
alerts-dead = { $n } alert(s) could not be delivered to the case system's webhook:
alerts-watchlist = Your watchlist
alerts-kind = Kind
alerts-value-any = Value (any form; it is normalised)
alerts-note = Note
alerts-watch = Watch
alerts-type-indicator = indicator
alerts-type-revision = revision
alerts-type-sighting = sighting
alerts-type-referral = referral
alerts-type-retraction = retraction
alerts-type-typology = typology
alerts-type-technique = technique
alerts-type-contact_request = contact request
alerts-type-contact_answer = contact answer

# Deconfliction
dc-title = Deconfliction
dc-intro = Ask every member whether it holds anything on values — in shared records, in records it keeps back, or in its local cases. No member learns the values; each answers only hit or no hit, and every request is signed, logged by each member with its purpose, and rate-limited. A hit is followed up by asking that member to get in touch, which shows it the value.
dc-values = Values, one per line (up to 1,000; kinds are recognised)
dc-purpose = Purpose (each member logs it)
dc-ask = Ask the network
dc-partners-asking = Partners asking to talk
dc-asked = Questions asked
dc-none = None yet.
dc-sent = Contact requests sent
dc-to = to { $agency } about
dc-talk-to = talk to: { $contact }
dc-col-member = Member
dc-col-answer = Answer
dc-no-answer = no answer: { $error }
dc-no-hit = no hit
dc-hit = hit on { $n } value(s)
dc-contact = contact: { $contact }
dc-message-placeholder = Message (who you are, why)
dc-message-label = Message to the holder
dc-get-in-touch = Ask them to get in touch
dc-case-ref = case { $reference }
dc-asks-about = ({ $analyst }) asks about
dc-their-purpose = purpose: { $purpose }
dc-their-case = their case { $reference }
dc-no-case-here = No case here holds it (it may be in a record or a watchlist).
dc-contact-point = Who they should talk to (default: this node's contact point)
dc-answer-message = Message
dc-accept = Accept
dc-decline = Decline
dc-answered-by = by { $name }
dc-status-pending = waiting for an answer
dc-status-accepted = accepted
dc-status-declined = declined

# Indicator page
ind-title = Indicator
ind-agency = Agency
ind-role-subject = Role / subject
ind-confidence = Confidence
ind-seen = First / last seen
ind-platform = Platform / countries
ind-description = Description
ind-agencies = Agencies saying so
ind-typologies = Typologies
ind-retracted = Retracted
ind-referred = Referred to platforms
ind-referred-by = Already referred by { $agency } on { $date }:
ind-not-yet = not yet
ind-file = file a referral
ind-sightings = Sightings
ind-none = None yet.
ind-corroborates = { $agency } corroborates
ind-false-positive = { $agency } calls it a false positive
ind-history = History
ind-saw = We saw it too
ind-mark-fp = Mark false positive
role-recruiter_contact = Recruiter's contact
role-job_ad = Job advertisement
role-scam_platform = Scam platform
role-payment = Payment
role-laundering = Laundering
role-infrastructure = Infrastructure
subject-suspect = Suspect
subject-victim = Victim
subject-unknown = Unknown
basis-fact = fact
basis-assessment = assessment

# Bulk check
bulk-title = Bulk check
bulk-values = Values, one per line (kinds are recognised; write kind,value to force one)
bulk-load = …or load a text or CSV file
bulk-check = Check
bulk-download = Download CSV
bulk-upload = Upload a file to check on the node (text, one value per line, or CSV with a value column; up to 200,000 values)
bulk-check-file = Check the file
bulk-check-download = Check and download CSV
bulk-sum-values = values:
bulk-sum-hits = with hits,
bulk-sum-invalid = invalid.
bulk-show = Show
bulk-all = all values
bulk-hits = hits
bulk-col-input = Input
bulk-col-matched = Matched as
bulk-col-status = Status
bulk-col-hits = Hits
status-hit = hit
status-no-hit = no hit
status-invalid = invalid

# Network
net-title = Network
net-none = No trust list installed.
net-summary = Network { $network }, trust list version { $version }, { $threshold } coordinator signature(s) needed.
net-col-member = Member
net-col-country = Country
net-col-state = State
net-col-seen = Last seen
net-col-lag = How far apart
net-col-runs = Runs
net-compromised = key cut off as compromised at { $date }
net-rotated = key rotated at { $date }
net-me = this node
net-connected = connected
net-offline = offline
net-cannot-read = cannot read { $families } records: should upgrade
net-groups = Sharing groups
net-audit = Audit log
net-intact = Intact: { $n } entries.
net-in-sync = in sync
net-not-compared = not compared yet
net-lag = { $channel }: it has { $theirs } we lack, we have { $ours } it lacks

# A record of a newer kind
rec-title = Record
rec-record = Record
rec-kind = Kind
rec-agency = Agency
rec-channel = Channel
rec-signed = Signed
rec-newer = This node keeps and passes on the record exactly as signed; a newer version of Kawan shows what it says.

# Publish
pub-title = Publish an indicator
pub-kind = Kind
pub-value = Value (any form; it is normalised)
pub-role = Role
pub-group = Sharing group (for AMBER)
pub-whole-network = — whole network —
pub-confidence = Confidence (0-100)
pub-description = Description
pub-sign = Sign and publish
pub-red = TLP RED never leaves this node: record it in a case instead.
pub-knowledge = Publish a typology or technique
pub-what = What
pub-what-typology = typology (how a pattern works)
pub-what-technique = technique (how to find and evidence it)
pub-field-title = Title
pub-summary = Summary (typology) or objective (technique)
pub-stage = Stage (typology)
pub-steps = Steps (technique), one per line
stage-recruitment = recruitment
stage-transit = transit
stage-exploitation = exploitation
stage-scam = scam
stage-monetisation = monetisation

# Library
lib-typologies = Typologies
lib-techniques = Techniques
lib-search = search titles and summaries
