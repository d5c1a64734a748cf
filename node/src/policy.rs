//! The one outbound-data gate (docs/architecture.md, "One application core"):
//! whether a piece of data may go to a recipient over an output path. Every
//! path that sends or shows data — network records spreading peer to peer
//! (the `gossip` path), group push, pull answers, relays, the REST API, the
//! web page, TAXII, the MISP feed, CSV and STIX exports, platform referral
//! packages, deconfliction answers, attachments served to members,
//! trust-list proposals to coordinators' nodes — asks [`Policy::allows`], so "what may leave this node, to
//! whom?" has one answer, and a new output path is one new [`Path`] and one
//! new column in the table test below.
//!
//! The rules:
//! - another agency's node receives a record only if it is an active member
//!   of the trust list in force and may see the record's channel (the
//!   network, or a sharing group it is in); group records never travel on
//!   the `gossip` path, only pushed or relayed to their group's members; RED
//!   and case data never go to a peer;
//! - this agency's own analysts (REST, CLI, web) see everything stored,
//!   and their cases;
//! - export clients (TAXII, MISP, CSV, STIX, referral packages) get CLEAR,
//!   GREEN and AMBER of the channels this node is in now; never
//!   AMBER+STRICT, RED or cases;
//! - a record whose latest version carries handling code H2 ("not to be
//!   disseminated outside the network without the provider's permission")
//!   and for which no permission is recorded ([`Onward::Withheld`]) never
//!   goes to an export client; peers and this agency's analysts are inside
//!   the network and are not affected.
//!
//! Every decision is counted per path (`kawan_policy_decisions_total`), so a
//! test can prove that every output path consulted the gate.

use std::sync::atomic::{AtomicU64, Ordering};

use kawan_protocol::{AgencyKey, Channel, Membership, Tlp};

/// An output path: a way data leaves the store.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Path {
    /// A network record spreading peer to peer: an author's push, the
    /// announcement of its short id, the answer to a peer that asked for it
    /// (no gossipsub topic; the name is the metrics label).
    Gossip,
    /// A group record pushed straight to the group's connected members.
    Push,
    /// Records answering a peer's sync pull.
    PullAnswer,
    /// A received group record passed on to the group's other members.
    Relay,
    /// A bundle: what sync would send one member, written to a file for an
    /// air-gapped or intermittent node (`kawan bundle export`).
    Bundle,
    /// A file a record carries, served chunk by chunk to a member that asks
    /// for it (`/kawan/attach/1`): it goes where the record may go.
    Attachment,
    /// The REST API (and the CLI, which speaks it).
    Rest,
    /// The web page.
    Web,
    /// TAXII 2.1 collections.
    Taxii,
    /// The MISP feed.
    MispFeed,
    /// The CSV export.
    Csv,
    /// The STIX bundle export.
    Stix,
    /// Alerts POSTed to the agency's own case system (`[alerts] webhook`):
    /// a tool outside Kawan, so what may not leave the network is withheld.
    Webhook,
    /// A platform referral package (takedown rows for a platform's
    /// law-enforcement portal): leaves the network.
    Referral,
    /// A private hit/no-hit answer to another agency (one bit per value,
    /// never the record or the case behind it).
    Deconfliction,
    /// A trust-list proposal sent to another coordinator's node.
    Coordination,
    /// The node's own background work for this agency (jobs, alerts on
    /// what peers sent, auditing what the network did): reads what the
    /// agency's analysts may read, and sends nothing out.
    System,
}

impl Path {
    pub const ALL: [Path; 17] = [
        Path::Gossip,
        Path::Push,
        Path::PullAnswer,
        Path::Relay,
        Path::Bundle,
        Path::Attachment,
        Path::Rest,
        Path::Web,
        Path::Taxii,
        Path::MispFeed,
        Path::Csv,
        Path::Stix,
        Path::Referral,
        Path::Webhook,
        Path::Deconfliction,
        Path::Coordination,
        Path::System,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Path::Gossip => "gossip",
            Path::Push => "push",
            Path::PullAnswer => "pull_answer",
            Path::Relay => "relay",
            Path::Bundle => "bundle",
            Path::Attachment => "attachment",
            Path::Rest => "rest",
            Path::Web => "web",
            Path::Taxii => "taxii",
            Path::MispFeed => "misp_feed",
            Path::Csv => "csv",
            Path::Stix => "stix",
            Path::Referral => "referral",
            Path::Webhook => "webhook",
            Path::Deconfliction => "deconfliction",
            Path::Coordination => "coordination",
            Path::System => "system",
        }
    }

    /// Paths to other agencies' nodes.
    fn to_peers(self) -> bool {
        matches!(self, Path::Gossip | Path::Push | Path::PullAnswer | Path::Relay | Path::Bundle | Path::Attachment)
    }

    /// Paths to this agency's own people, and the node's own work for them.
    fn to_analysts(self) -> bool {
        matches!(self, Path::Rest | Path::Web | Path::System)
    }

    /// Paths into other tools (which may pass data further).
    fn to_tools(self) -> bool {
        matches!(self, Path::Taxii | Path::MispFeed | Path::Csv | Path::Stix | Path::Referral | Path::Webhook)
    }

    fn index(self) -> usize {
        Path::ALL.iter().position(|p| *p == self).unwrap_or(0)
    }
}

/// Whether a record may be passed on outside the network (handling code H2).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Onward {
    /// No H2 on its latest version, or a permission is recorded for the
    /// path (`kawan permission grant`). Also what every in-network path
    /// (peers, analysts) passes: H2 does not restrict members.
    Free,
    /// Its latest version carries H2 and no permission is recorded: never
    /// to an export client.
    Withheld,
}

/// What would leave.
#[derive(Debug, Clone, Copy)]
pub enum Item<'a> {
    /// A shared record of `channel`. `tlp` is the content's label; `None`
    /// (sightings, retractions) means the channel decides. `onward` says
    /// whether its handling lets it leave the network.
    Record { channel: &'a Channel, tlp: Option<Tlp>, onward: Onward },
    /// Local case data: cases, their notes and details, their links.
    Case,
    /// Whether this node holds anything on a value the asker cannot name
    /// to us (an oblivious evaluation, docs/protocol.md §7).
    HitOrNot,
    /// A proposed next version of the trust list, its note and the
    /// coordinators' signatures so far: for coordinators only.
    Proposal,
}

/// Who would receive it.
#[derive(Debug, Clone, Copy)]
pub enum Recipient<'a> {
    /// Another agency's node, by its key.
    Peer(&'a AgencyKey),
    /// A token holder of this agency reading on this node.
    Analyst,
    /// A tool a token holder feeds: a TAXII client, MISP, a spreadsheet.
    Client,
}

/// The gate, over the trust list in force (indexed).
pub struct Policy<'a> {
    trust: Option<&'a Membership>,
    me: AgencyKey,
    now_ms: u64,
}

impl<'a> Policy<'a> {
    pub fn new(trust: Option<&'a Membership>, me: AgencyKey, now_ms: u64) -> Policy<'a> {
        Policy { trust, me, now_ms }
    }

    /// Whether `item` may go to `to` over `path`. Counted.
    pub fn allows(&self, item: Item, to: Recipient, path: Path) -> bool {
        let yes = self.decide(item, to, path);
        DECISIONS[path.index()][usize::from(yes)].fetch_add(1, Ordering::Relaxed);
        yes
    }

    fn decide(&self, item: Item, to: Recipient, path: Path) -> bool {
        match (item, to) {
            (Item::HitOrNot, Recipient::Peer(key)) => path == Path::Deconfliction && self.admits(key),
            (Item::HitOrNot, _) => false,
            (_, _) if path == Path::Deconfliction => false,
            (Item::Proposal, Recipient::Peer(key)) => {
                path == Path::Coordination
                    && *key != self.me
                    && self.trust.is_some_and(|t| t.is_coordinator(key, self.now_ms))
            }
            (Item::Proposal, Recipient::Analyst) => path.to_analysts(),
            (Item::Proposal, Recipient::Client) => false,
            (_, _) if path == Path::Coordination => false,
            (Item::Case, Recipient::Analyst) => path.to_analysts(),
            (Item::Case, _) => false,
            (Item::Record { .. }, Recipient::Analyst) => path.to_analysts(),
            (Item::Record { channel, tlp, onward }, Recipient::Client) => {
                path.to_tools()
                    && onward == Onward::Free
                    && tlp.is_none_or(|t| matches!(t, Tlp::Clear | Tlp::Green | Tlp::Amber))
                    && self.readable_channels().contains(channel)
            }
            (Item::Record { channel, tlp, .. }, Recipient::Peer(key)) => {
                path.to_peers()
                    && tlp.is_none_or(|t| t.allows(channel))
                    && (path != Path::Gossip || *channel == Channel::Network)
                    && *key != self.me
                    && self.channels_of(key).contains(channel)
            }
        }
    }

    /// Whether `item` is refused only for its handling: its `onward` is
    /// withheld and it would go otherwise. Not counted (the decision was);
    /// exports count these in their audit entries ("3 withheld (H2)").
    pub fn withheld_for_handling(&self, item: Item, to: Recipient, path: Path) -> bool {
        match item {
            Item::Record { channel, tlp, onward: Onward::Withheld } => {
                self.decide(Item::Record { channel, tlp, onward: Onward::Free }, to, path)
            }
            _ => false,
        }
    }

    /// Whether `key` may connect at all: an active member other than us
    /// (the libp2p allow-list).
    pub fn admits(&self, key: &AgencyKey) -> bool {
        *key != self.me && self.trust.is_some_and(|t| t.is_active(key, self.now_ms))
    }

    /// Channels an agency may see now: the network and its groups, if it is
    /// an active member; nothing otherwise.
    pub fn channels_of(&self, key: &AgencyKey) -> Vec<Channel> {
        let Some(list) = self.trust.filter(|t| t.is_active(key, self.now_ms)) else { return vec![] };
        let mut out = vec![Channel::Network];
        out.extend(list.groups_of(key).iter().map(|g| Channel::Group(g.clone())));
        out
    }

    /// Channels both this node and `peer` may see: what sync offers and
    /// accepts.
    pub fn shared_channels(&self, peer: &AgencyKey) -> Vec<Channel> {
        if *peer == self.me {
            return vec![];
        }
        let theirs = self.channels_of(peer);
        self.channels_of(&self.me).into_iter().filter(|c| theirs.contains(c)).collect()
    }

    /// Channels a reader may list (TAXII collections): the network and this
    /// node's groups. Analysts read every stored record whatever its
    /// channel; their searches are not limited by this list.
    pub fn readable_channels(&self) -> Vec<Channel> {
        let mut out = vec![Channel::Network];
        if let Some(list) = self.trust {
            out.extend(list.groups_of(&self.me).iter().map(|g| Channel::Group(g.clone())));
        }
        out
    }
}

/// Decisions made in this process: `[path][refused, allowed]`.
static DECISIONS: [[AtomicU64; 2]; Path::ALL.len()] = [const { [const { AtomicU64::new(0) }; 2] }; Path::ALL.len()];

/// Per path: (allowed, refused) decisions so far, for `/metrics`.
pub fn decisions() -> Vec<(Path, u64, u64)> {
    Path::ALL
        .iter()
        .map(|p| {
            let [refused, allowed] = &DECISIONS[p.index()];
            (*p, allowed.load(Ordering::Relaxed), refused.load(Ordering::Relaxed))
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use kawan_protocol::{Country, Group, GroupId, Keypair, Member, MemberId, MemberRole, NetworkId, TrustList};

    use super::*;

    const NOW: u64 = 1_800_000_000_000;

    fn key(n: u8) -> AgencyKey {
        Keypair::from_secret_bytes([n; 32]).public()
    }

    fn member(n: u8, expires_ms: Option<u64>) -> Member {
        Member {
            id: MemberId::new(format!("agency-{n}")).unwrap(),
            name: format!("Agency {n}"),
            country: "TH".parse::<Country>().unwrap(),
            key: key(n),
            roles: vec![MemberRole::Member],
            addrs: vec![],
            expires_ms,
            key_from_ms: None,
            retired_keys: vec![],
        }
    }

    fn coordinator(mut m: Member) -> Member {
        m.roles = vec![MemberRole::Coordinator];
        m
    }

    /// 1 is this node; 2 shares group "mekong" with it and coordinates; 3
    /// is a member outside the group; 4 was removed (not listed); 5 is
    /// listed (a coordinator) but expired; 6 never was a member.
    fn trust() -> TrustList {
        TrustList {
            attachment_max_bytes: None,
            retention: None,
            decay: None,
            network: NetworkId::new("kawan-test").unwrap(),
            version: 2,
            issued_ms: NOW - 1000,
            threshold: 1,
            members: vec![
                member(1, None),
                coordinator(member(2, None)),
                member(3, None),
                coordinator(member(5, Some(NOW - 1))),
            ],
            groups: vec![Group {
                id: GroupId::new("mekong").unwrap(),
                name: "Mekong".into(),
                members: vec![
                    MemberId::new("agency-1").unwrap(),
                    MemberId::new("agency-2").unwrap(),
                    MemberId::new("agency-5").unwrap(),
                ],
            }],
        }
    }

    #[derive(Debug, Clone, Copy)]
    enum Class {
        Clear,
        Green,
        /// GREEN, but its latest version carries H2 and no permission is
        /// recorded: peers and analysts as GREEN, no export client.
        WithheldGreen,
        AmberInGroup,
        StrictInGroup,
        Case,
        HitOrNot,
        Proposal,
    }

    #[derive(Debug, Clone, Copy)]
    enum Who {
        Member,
        GroupMember,
        NonMember,
        RemovedMember,
        ExpiredMember,
        LocalAnalyst,
        TaxiiClient,
    }

    /// The specification. Columns, in `Path::ALL` order:
    /// gossip push pull relay bundle attachment | rest web | taxii misp csv stix referral webhook | deconfliction | coordination | system.
    /// `Y` = may receive or see it, `.` = never.
    const TABLE: &[(Class, Who, &str)] = &[
        (Class::Clear, Who::Member, "YYYYYY|..|......|.|.|."),
        (Class::Clear, Who::GroupMember, "YYYYYY|..|......|.|.|."),
        (Class::Clear, Who::NonMember, "......|..|......|.|.|."),
        (Class::Clear, Who::RemovedMember, "......|..|......|.|.|."),
        (Class::Clear, Who::ExpiredMember, "......|..|......|.|.|."),
        (Class::Clear, Who::LocalAnalyst, "......|YY|......|.|.|Y"),
        (Class::Clear, Who::TaxiiClient, "......|..|YYYYYY|.|.|."),
        (Class::Green, Who::Member, "YYYYYY|..|......|.|.|."),
        (Class::Green, Who::GroupMember, "YYYYYY|..|......|.|.|."),
        (Class::Green, Who::NonMember, "......|..|......|.|.|."),
        (Class::Green, Who::RemovedMember, "......|..|......|.|.|."),
        (Class::Green, Who::ExpiredMember, "......|..|......|.|.|."),
        (Class::Green, Who::LocalAnalyst, "......|YY|......|.|.|Y"),
        (Class::Green, Who::TaxiiClient, "......|..|YYYYYY|.|.|."),
        (Class::WithheldGreen, Who::Member, "YYYYYY|..|......|.|.|."),
        (Class::WithheldGreen, Who::GroupMember, "YYYYYY|..|......|.|.|."),
        (Class::WithheldGreen, Who::NonMember, "......|..|......|.|.|."),
        (Class::WithheldGreen, Who::RemovedMember, "......|..|......|.|.|."),
        (Class::WithheldGreen, Who::ExpiredMember, "......|..|......|.|.|."),
        (Class::WithheldGreen, Who::LocalAnalyst, "......|YY|......|.|.|Y"),
        (Class::WithheldGreen, Who::TaxiiClient, "......|..|......|.|.|."),
        (Class::AmberInGroup, Who::Member, "......|..|......|.|.|."),
        (Class::AmberInGroup, Who::GroupMember, ".YYYYY|..|......|.|.|."),
        (Class::AmberInGroup, Who::NonMember, "......|..|......|.|.|."),
        (Class::AmberInGroup, Who::RemovedMember, "......|..|......|.|.|."),
        (Class::AmberInGroup, Who::ExpiredMember, "......|..|......|.|.|."),
        (Class::AmberInGroup, Who::LocalAnalyst, "......|YY|......|.|.|Y"),
        (Class::AmberInGroup, Who::TaxiiClient, "......|..|YYYYYY|.|.|."),
        (Class::StrictInGroup, Who::Member, "......|..|......|.|.|."),
        (Class::StrictInGroup, Who::GroupMember, ".YYYYY|..|......|.|.|."),
        (Class::StrictInGroup, Who::NonMember, "......|..|......|.|.|."),
        (Class::StrictInGroup, Who::RemovedMember, "......|..|......|.|.|."),
        (Class::StrictInGroup, Who::ExpiredMember, "......|..|......|.|.|."),
        (Class::StrictInGroup, Who::LocalAnalyst, "......|YY|......|.|.|Y"),
        (Class::StrictInGroup, Who::TaxiiClient, "......|..|......|.|.|."),
        (Class::Case, Who::Member, "......|..|......|.|.|."),
        (Class::Case, Who::GroupMember, "......|..|......|.|.|."),
        (Class::Case, Who::NonMember, "......|..|......|.|.|."),
        (Class::Case, Who::RemovedMember, "......|..|......|.|.|."),
        (Class::Case, Who::ExpiredMember, "......|..|......|.|.|."),
        (Class::Case, Who::LocalAnalyst, "......|YY|......|.|.|Y"),
        (Class::Case, Who::TaxiiClient, "......|..|......|.|.|."),
        (Class::HitOrNot, Who::Member, "......|..|......|Y|.|."),
        (Class::HitOrNot, Who::GroupMember, "......|..|......|Y|.|."),
        (Class::HitOrNot, Who::NonMember, "......|..|......|.|.|."),
        (Class::HitOrNot, Who::RemovedMember, "......|..|......|.|.|."),
        (Class::HitOrNot, Who::ExpiredMember, "......|..|......|.|.|."),
        (Class::HitOrNot, Who::LocalAnalyst, "......|..|......|.|.|."),
        (Class::HitOrNot, Who::TaxiiClient, "......|..|......|.|.|."),
        (Class::Proposal, Who::Member, "......|..|......|.|.|."),
        (Class::Proposal, Who::GroupMember, "......|..|......|.|Y|."),
        (Class::Proposal, Who::NonMember, "......|..|......|.|.|."),
        (Class::Proposal, Who::RemovedMember, "......|..|......|.|.|."),
        (Class::Proposal, Who::ExpiredMember, "......|..|......|.|.|."),
        (Class::Proposal, Who::LocalAnalyst, "......|YY|......|.|.|Y"),
        (Class::Proposal, Who::TaxiiClient, "......|..|......|.|.|."),
    ];

    #[test]
    fn every_output_path_follows_the_distribution_table() {
        let list = trust();
        let list = Membership::of(&list);
        let policy = Policy::new(Some(&list), key(1), NOW);
        let group = Channel::Group(GroupId::new("mekong").unwrap());
        let keys = [key(3), key(2), key(6), key(4), key(5)];
        let free = Onward::Free;
        let mut rows = 0;
        for (class, who, expected) in TABLE {
            let expected: Vec<bool> = expected.chars().filter(|c| *c != '|').map(|c| c == 'Y').collect();
            assert_eq!(expected.len(), Path::ALL.len(), "row {class:?} × {who:?} needs one column per path");
            let item = match class {
                Class::Clear => Item::Record { channel: &Channel::Network, tlp: Some(Tlp::Clear), onward: free },
                Class::Green => Item::Record { channel: &Channel::Network, tlp: Some(Tlp::Green), onward: free },
                Class::WithheldGreen => {
                    Item::Record { channel: &Channel::Network, tlp: Some(Tlp::Green), onward: Onward::Withheld }
                }
                Class::AmberInGroup => Item::Record { channel: &group, tlp: Some(Tlp::Amber), onward: free },
                Class::StrictInGroup => Item::Record { channel: &group, tlp: Some(Tlp::AmberStrict), onward: free },
                Class::Case => Item::Case,
                Class::HitOrNot => Item::HitOrNot,
                Class::Proposal => Item::Proposal,
            };
            let to = match who {
                Who::Member => Recipient::Peer(&keys[0]),
                Who::GroupMember => Recipient::Peer(&keys[1]),
                Who::NonMember => Recipient::Peer(&keys[2]),
                Who::RemovedMember => Recipient::Peer(&keys[3]),
                Who::ExpiredMember => Recipient::Peer(&keys[4]),
                Who::LocalAnalyst => Recipient::Analyst,
                Who::TaxiiClient => Recipient::Client,
            };
            for (path, want) in Path::ALL.iter().zip(expected) {
                assert_eq!(policy.allows(item, to, *path), want, "{class:?} to {who:?} over {path:?}");
            }
            rows += 1;
        }
        // Every record class meets every recipient: removing a row fails.
        assert_eq!(rows, 8 * 7, "the table must cross every class with every recipient");
    }

    #[test]
    fn records_without_a_label_follow_their_channel() {
        let list = trust();
        let list = Membership::of(&list);
        let policy = Policy::new(Some(&list), key(1), NOW);
        let group = Channel::Group(GroupId::new("mekong").unwrap());
        let sighting = Item::Record { channel: &group, tlp: None, onward: Onward::Free };
        assert!(policy.allows(sighting, Recipient::Peer(&key(2)), Path::Push));
        assert!(!policy.allows(sighting, Recipient::Peer(&key(3)), Path::Push));
        assert!(!policy.allows(sighting, Recipient::Peer(&key(2)), Path::Gossip), "group records never gossip");
        let red = Item::Record { channel: &Channel::Network, tlp: Some(Tlp::Red), onward: Onward::Free };
        for path in Path::ALL {
            assert!(!policy.allows(red, Recipient::Peer(&key(2)), path), "RED never leaves, over {path:?}");
            assert!(!policy.allows(red, Recipient::Client, path), "RED is never exported, over {path:?}");
        }
    }

    #[test]
    fn an_h2_record_without_permission_stays_inside_the_network() {
        let list = trust();
        let list = Membership::of(&list);
        let policy = Policy::new(Some(&list), key(1), NOW);
        let withheld = Item::Record { channel: &Channel::Network, tlp: Some(Tlp::Clear), onward: Onward::Withheld };
        let free = Item::Record { channel: &Channel::Network, tlp: Some(Tlp::Clear), onward: Onward::Free };
        for path in [Path::Taxii, Path::MispFeed, Path::Csv, Path::Stix, Path::Referral, Path::Webhook] {
            assert!(!policy.allows(withheld, Recipient::Client, path), "H2 leaves over {path:?}");
            assert!(policy.allows(free, Recipient::Client, path), "permitted record refused over {path:?}");
        }
        assert!(policy.allows(withheld, Recipient::Peer(&key(2)), Path::Gossip), "members are inside the network");
        assert!(policy.allows(withheld, Recipient::Analyst, Path::Rest));
    }

    #[test]
    fn without_a_trust_list_nothing_goes_to_peers_or_tools_outside_the_network_channel() {
        let policy = Policy::new(None, key(1), NOW);
        let green = Item::Record { channel: &Channel::Network, tlp: Some(Tlp::Green), onward: Onward::Free };
        assert!(!policy.allows(green, Recipient::Peer(&key(2)), Path::Gossip));
        assert!(!policy.admits(&key(2)));
        assert!(policy.allows(green, Recipient::Analyst, Path::Rest));
        assert_eq!(policy.readable_channels(), vec![Channel::Network]);
    }

    #[test]
    fn sync_offers_only_the_channels_both_sides_may_see() {
        let list = trust();
        let list = Membership::of(&list);
        let policy = Policy::new(Some(&list), key(1), NOW);
        let group = Channel::Group(GroupId::new("mekong").unwrap());
        assert_eq!(policy.shared_channels(&key(2)), vec![Channel::Network, group]);
        assert_eq!(policy.shared_channels(&key(3)), vec![Channel::Network]);
        assert!(policy.shared_channels(&key(5)).is_empty(), "expired");
        assert!(policy.shared_channels(&key(6)).is_empty(), "never a member");
        assert!(policy.shared_channels(&key(1)).is_empty(), "not ourselves");
        assert!(policy.admits(&key(2)) && !policy.admits(&key(5)) && !policy.admits(&key(1)));
    }
}
