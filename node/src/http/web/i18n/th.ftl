# Kawan web page — ภาษาไทย (Thai). DRAFT for native review (docs/localisation.md).
lang-name = ไทย

nav-home = หน้าแรก
nav-bulk = ตรวจสอบจำนวนมาก
nav-publish = เผยแพร่
nav-library = รูปแบบและเทคนิค
nav-referrals = การส่งต่อ
nav-alerts = การแจ้งเตือน
nav-deconflict = การตรวจสอบความซ้ำซ้อน
nav-cases = คดี
nav-network = เครือข่าย
log-out = ออกจากระบบ
language = ภาษา

search-button = ค้นหา
search-any-kind = ทุกประเภท
search-placeholder = หมายเลขโทรศัพท์ ลิงก์ t.me กระเป๋าเงิน URL…
home-unread-why = หน่วยงานพันธมิตรเผยแพร่ค่าที่คุณติดตามหรือมีอยู่ในคดี
search-kind = ประเภท
search-title = ค้นหา

home-title = หน้าแรก
home-since = ตั้งแต่การเข้าชมครั้งล่าสุดของคุณ ({ $date })
home-last-day = ในวันที่ผ่านมา
home-no-new = ไม่มีข้อมูลใหม่จากหน่วยงานพันธมิตร
home-new = ข้อมูลใหม่ { $n } รายการจากหน่วยงานพันธมิตร
home-by-agency = ตามหน่วยงาน
home-by-kind = ตามประเภท
home-by-channel = ตามช่องทาง
home-waiting = รอการดำเนินการจากคุณ
home-unread = การแจ้งเตือนที่ยังไม่อ่าน { $n } รายการ
home-latest = ล่าสุด: { $agency } เผยแพร่
home-contacts = คำขอติดต่อจากหน่วยงานพันธมิตร { $n } รายการ
home-to-answer = ที่ต้องตอบ
home-expired = ตัวบ่งชี้ของหน่วยงานนี้ { $n } รายการหมดอายุแล้ว: ตรวจสอบอีกครั้งหรือเพิกถอน
home-revised = ข้อมูล { $n } รายการที่คดีของคุณใช้ถูกแก้ไขโดยผู้เผยแพร่
home-past-validity = หมดอายุแล้ว
home-revised-title = ถูกแก้ไขตั้งแต่ที่คุณดูครั้งล่าสุด
home-network = เครือข่าย
home-connected = เชื่อมต่อกับโหนดพันธมิตร { $n } จาก { $m } โหนด
home-details = รายละเอียด
home-weeks = { $n } สัปดาห์ที่ผ่านมา
chart-weekly-kind = ข้อมูลต่อสัปดาห์ ตามประเภท
chart-weekly-agency = ข้อมูลต่อสัปดาห์ ตามหน่วยงาน
chart-top-platforms = แพลตฟอร์มสูงสุด
chart-top-countries = ประเทศสูงสุด
chart-week-of = สัปดาห์ของ
chart-records = รายการ
chart-indicators = ตัวบ่งชี้
chart-others = อื่น ๆ
none-yet = ยังไม่มี

channel-network = ทั้งเครือข่าย
channel-group = กลุ่มแบ่งปัน { $group }

kind-phone = หมายเลขโทรศัพท์
kind-email = ที่อยู่อีเมล
kind-url = URL
kind-domain = โดเมน
kind-ip = ที่อยู่ IP
kind-telegram_handle = บัญชี Telegram
kind-line_id = ไอดี LINE
kind-wechat_id = ไอดี WeChat
kind-social_profile = โปรไฟล์โซเชียลมีเดีย
kind-tron_address = กระเป๋าเงิน TRON
kind-evm_address = กระเป๋าเงินแบบ Ethereum
kind-btc_address = กระเป๋าเงิน Bitcoin
kind-bank_account = บัญชีธนาคาร
kind-company_name = ชื่อบริษัท
kind-app_id = แอป
kind-image_hash = ค่าแฮชของรูปภาพ
kind-typology = รูปแบบ
kind-technique = เทคนิค
kind-referral = การส่งต่อ

# Tables of shared knowledge
col-value = ค่า
col-tlp = TLP
col-agency = หน่วยงาน
col-confidence = ความเชื่อมั่น
col-seen = พบครั้งแรก / ล่าสุด
col-sightings = การยืนยัน
col-flags = สถานะ
flag-retracted = ถูกเพิกถอน
flag-revised = แก้ไข ×{ $n }
flag-revoked = ผู้เผยแพร่ถูกถอดถอน
flag-equivocating = ผู้เผยแพร่ให้ข้อมูลขัดแย้ง
flag-false-positive = ผลบวกลวง ×{ $n }

# Search results
search-invalid = ค่าไม่ถูกต้อง: { $error }
search-matched = ตรงกับ
search-no-hit = ยังไม่มีหน่วยงานใดแบ่งปันค่านี้

# Cases
cases-title = คดี
case-title = คดี { $reference }
cases-stay = คดีจะอยู่บนโหนดนี้เท่านั้น ไม่มีสิ่งใดถูกส่งไปยังหน่วยงานอื่น
case-stays = คดีนี้อยู่บนโหนดนี้เท่านั้น ไม่มีสิ่งใดถูกส่งไปยังหน่วยงานอื่น
cases-col-reference = เลขที่คดี
cases-col-title = ชื่อเรื่อง
cases-col-linked = ข้อมูลที่เชื่อมโยง
case-values = ค่าที่คดีนี้มี
case-values-note = เก็บไว้บนโหนดนี้ ถูกติดตาม: จะมีการแจ้งเตือนเมื่อหน่วยงานพันธมิตรเผยแพร่ค่าเหล่านี้
case-opted-out = คดีนี้ไม่เข้าร่วมการตรวจสอบความซ้ำซ้อน: หน่วยงานที่ถามถึงค่าของคดีนี้จะไม่ได้รับผลตรงกันจากคดีนี้
case-deconflictable = ตรวจสอบความซ้ำซ้อนได้: หน่วยงานที่ถามจะรู้เพียงว่าหน่วยงานนี้มีข้อมูลเกี่ยวกับค่านั้น
case-add-value = เพิ่มค่า (รูปแบบใดก็ได้ ระบบจะจำแนกประเภทเอง)
case-add = เพิ่ม
case-ask = ถามเครือข่ายว่ามีหน่วยงานใดอีกบ้างที่มีค่าของคดีนี้ (วัตถุประสงค์ ซึ่งสมาชิกแต่ละรายจะบันทึกไว้)
case-deconflict = ตรวจสอบความซ้ำซ้อนของคดีนี้
case-linked = ข้อมูลที่แบ่งปันซึ่งเชื่อมโยงอยู่
case-none = ไม่มี
case-others = หน่วยงานอื่นที่มีค่าเดียวกัน
case-no-others = ยังไม่มีหน่วยงานอื่นเผยแพร่ค่าที่คดีนี้มี
case-published = { $agency } เผยแพร่
case-see = ดู

# One value of a kind
kind1-phone = หมายเลขโทรศัพท์
kind1-email = ที่อยู่อีเมล
kind1-url = URL
kind1-domain = โดเมน
kind1-ip = ที่อยู่ IP
kind1-telegram_handle = บัญชี Telegram
kind1-line_id = ไอดี LINE
kind1-wechat_id = ไอดี WeChat
kind1-social_profile = โปรไฟล์โซเชียลมีเดีย
kind1-tron_address = กระเป๋าเงิน TRON
kind1-evm_address = กระเป๋าเงินแบบ Ethereum
kind1-btc_address = กระเป๋าเงิน Bitcoin
kind1-bank_account = บัญชีธนาคาร
kind1-company_name = ชื่อบริษัท
kind1-app_id = แอป
kind1-image_hash = ค่าแฮชของรูปภาพ

# Login
login-title = เข้าสู่ระบบ
login-token = โทเคน API
login-button = เข้าสู่ระบบ
login-help = ขอโทเคนจากผู้ดูแลโหนดของคุณ (kawan token create NAME --role analyst)
login-unknown = โทเคนไม่ถูกต้องหรือถูกเพิกถอนแล้ว
login-link-used = ลิงก์เข้าสู่ระบบนี้ถูกใช้ไปแล้วหรือหมดอายุ

# Alerts
alerts-title = การแจ้งเตือน
alerts-intro = การแจ้งเตือนที่ยังไม่อ่าน { $n } รายการ ระบบจะแจ้งเตือนเมื่อมีข้อมูลเข้ามา ไม่ว่าจากหน่วยงานพันธมิตรหรือเพื่อนร่วมงาน ซึ่งมีค่าที่คุณติดตาม หรือค่าที่อยู่ในคดีของหน่วยงานนี้ ข้อมูลเกี่ยวกับการตรงกันนี้จะไม่ออกจากโหนดนี้
alerts-col-when = เมื่อ
alerts-col-who = ผู้เผยแพร่
alerts-col-value = ค่า
alerts-col-matched = ตรงกับ
alerts-watch-entry = รายการติดตาม { $id }
alerts-case = คดี { $id }
alerts-seen-by = อ่านแล้วโดย { $name }
alerts-mark-seen = ทำเครื่องหมายว่าอ่านแล้ว
alerts-none = ยังไม่มีการแจ้งเตือน การแจ้งเตือนใหม่จะปรากฏที่นี่เมื่อเข้ามา
alerts-dead = การแจ้งเตือน { $n } รายการส่งไปยังเว็บฮุกของระบบคดีไม่สำเร็จ:
alerts-watchlist = รายการติดตามของคุณ
alerts-kind = ประเภท
alerts-value-any = ค่า (รูปแบบใดก็ได้ ระบบจะปรับให้เป็นมาตรฐาน)
alerts-note = หมายเหตุ
alerts-watch = ติดตาม
alerts-type-indicator = ตัวบ่งชี้
alerts-type-revision = การแก้ไข
alerts-type-sighting = การพบเห็น
alerts-type-referral = การส่งต่อ
alerts-type-retraction = การเพิกถอน
alerts-type-typology = รูปแบบ
alerts-type-technique = เทคนิค
alerts-type-contact_request = คำขอติดต่อ
alerts-type-contact_answer = คำตอบการติดต่อ

# Deconfliction
dc-title = การตรวจสอบความซ้ำซ้อน
dc-intro = ถามสมาชิกทุกรายว่ามีข้อมูลเกี่ยวกับค่าเหล่านี้หรือไม่ ทั้งในข้อมูลที่แบ่งปัน ข้อมูลที่เก็บไว้ หรือในคดีภายใน ไม่มีสมาชิกรายใดรู้ค่าที่ถาม แต่ละรายตอบเพียงว่าตรงหรือไม่ตรง ทุกคำขอมีการลงนาม ถูกบันทึกพร้อมวัตถุประสงค์โดยสมาชิกแต่ละราย และจำกัดอัตรา หากตรงกันให้ขอให้สมาชิกรายนั้นติดต่อกลับ ซึ่งจะเปิดเผยค่านั้นให้สมาชิกรายนั้นทราบ
dc-values = ค่า บรรทัดละหนึ่งค่า (สูงสุด 1,000 ค่า ระบบจำแนกประเภทเอง)
dc-purpose = วัตถุประสงค์ (สมาชิกแต่ละรายจะบันทึกไว้)
dc-ask = ถามเครือข่าย
dc-partners-asking = หน่วยงานพันธมิตรที่ขอติดต่อ
dc-asked = คำถามที่ส่งไป
dc-none = ยังไม่มี
dc-sent = คำขอติดต่อที่ส่งไป
dc-to = ถึง { $agency } เกี่ยวกับ
dc-talk-to = ติดต่อ: { $contact }
dc-col-member = สมาชิก
dc-col-answer = คำตอบ
dc-no-answer = ไม่มีคำตอบ: { $error }
dc-no-hit = ไม่ตรง
dc-hit = ตรงกัน { $n } ค่า
dc-contact = ติดต่อ: { $contact }
dc-message-placeholder = ข้อความ (คุณคือใคร เพราะเหตุใด)
dc-message-label = ข้อความถึงผู้ถือข้อมูล
dc-get-in-touch = ขอให้ติดต่อกลับ
dc-case-ref = คดี { $reference }
dc-asks-about = ({ $analyst }) ถามเกี่ยวกับ
dc-their-purpose = วัตถุประสงค์: { $purpose }
dc-their-case = คดีของผู้ถาม { $reference }
dc-no-case-here = ไม่มีคดีใดที่นี่มีค่านี้ (อาจอยู่ในข้อมูลหรือรายการติดตาม)
dc-contact-point = ผู้ที่พวกเขาควรติดต่อ (ค่าเริ่มต้น: ช่องทางติดต่อของโหนดนี้)
dc-answer-message = ข้อความ
dc-accept = ยอมรับ
dc-decline = ปฏิเสธ
dc-answered-by = โดย { $name }
dc-status-pending = รอคำตอบ
dc-status-accepted = ยอมรับแล้ว
dc-status-declined = ปฏิเสธแล้ว

# Indicator page
ind-title = ตัวบ่งชี้
ind-agency = หน่วยงาน
ind-role-subject = บทบาท / บุคคล
ind-confidence = ความเชื่อมั่น
ind-seen = พบครั้งแรก / ล่าสุด
ind-platform = แพลตฟอร์ม / ประเทศ
ind-description = รายละเอียด
ind-agencies = หน่วยงานที่ยืนยัน
ind-typologies = รูปแบบ
ind-retracted = ถูกเพิกถอน
ind-referred = ส่งต่อไปยังแพลตฟอร์ม
ind-referred-by = ส่งต่อแล้วโดย { $agency } เมื่อ { $date }:
ind-not-yet = ยังไม่ได้ส่งต่อ
ind-file = ยื่นการส่งต่อ
ind-sightings = การยืนยัน
ind-none = ยังไม่มี
ind-corroborates = { $agency } ยืนยัน
ind-false-positive = { $agency } ระบุว่าเป็นผลบวกลวง
ind-history = ประวัติ
ind-saw = เราพบเช่นกัน
ind-mark-fp = ระบุว่าเป็นผลบวกลวง
role-recruiter_contact = ช่องทางติดต่อผู้จัดหางาน
role-job_ad = ประกาศรับสมัครงาน
role-scam_platform = แพลตฟอร์มหลอกลวง
role-payment = การชำระเงิน
role-laundering = การฟอกเงิน
role-infrastructure = โครงสร้างพื้นฐาน
subject-suspect = ผู้ต้องสงสัย
subject-victim = ผู้เสียหาย
subject-unknown = ไม่ทราบ
basis-fact = ข้อเท็จจริง
basis-assessment = การประเมิน

# Bulk check
bulk-title = ตรวจสอบจำนวนมาก
bulk-values = ค่า บรรทัดละหนึ่งค่า (ระบบจำแนกประเภทเอง เขียน ประเภท,ค่า เพื่อระบุประเภท)
bulk-load = …หรือโหลดไฟล์ข้อความหรือ CSV
bulk-check = ตรวจสอบ
bulk-download = ดาวน์โหลด CSV
bulk-upload = อัปโหลดไฟล์เพื่อตรวจสอบบนโหนด (ข้อความ บรรทัดละหนึ่งค่า หรือ CSV ที่มีคอลัมน์ value สูงสุด 200,000 ค่า)
bulk-check-file = ตรวจสอบไฟล์
bulk-check-download = ตรวจสอบและดาวน์โหลด CSV
bulk-sum-values = ค่า:
bulk-sum-hits = ตรงกัน,
bulk-sum-invalid = ไม่ถูกต้อง
bulk-show = แสดง
bulk-all = ทุกค่า
bulk-hits = ที่ตรงกัน
bulk-col-input = ค่าที่ป้อน
bulk-col-matched = ตรงกับ
bulk-col-status = สถานะ
bulk-col-hits = ผลที่ตรงกัน
status-hit = ตรงกัน
status-no-hit = ไม่ตรง
status-invalid = ไม่ถูกต้อง

# Network
net-title = เครือข่าย
net-none = ยังไม่ได้ติดตั้งรายชื่อที่เชื่อถือได้
net-summary = เครือข่าย { $network } รายชื่อที่เชื่อถือได้ฉบับที่ { $version } ต้องมีลายเซ็นผู้ประสานงาน { $threshold } ราย
net-col-member = สมาชิก
net-col-country = ประเทศ
net-col-state = สถานะ
net-col-seen = พบล่าสุด
net-col-lag = ความต่างของข้อมูล
net-col-runs = รุ่นที่ใช้
net-compromised = กุญแจถูกตัดเนื่องจากถูกเจาะเมื่อ { $date }
net-rotated = เปลี่ยนกุญแจเมื่อ { $date }
net-me = โหนดนี้
net-connected = เชื่อมต่ออยู่
net-offline = ออฟไลน์
net-cannot-read = อ่านข้อมูล { $families } ไม่ได้: ควรอัปเกรด
net-groups = กลุ่มแบ่งปัน
net-audit = บันทึกการตรวจสอบ
net-intact = สมบูรณ์: { $n } รายการ
net-in-sync = ตรงกันแล้ว
net-not-compared = ยังไม่ได้เปรียบเทียบ
net-lag = { $channel }: อีกฝ่ายมี { $theirs } รายการที่เราไม่มี เรามี { $ours } รายการที่อีกฝ่ายไม่มี

# A record of a newer kind
rec-title = ข้อมูล
rec-record = ข้อมูล
rec-kind = ประเภท
rec-agency = หน่วยงาน
rec-channel = ช่องทาง
rec-signed = ลงนามเมื่อ
rec-newer = โหนดนี้เก็บและส่งต่อข้อมูลตามที่ลงนามไว้ทุกประการ Kawan รุ่นใหม่กว่าจะแสดงเนื้อหา

# Publish
pub-title = เผยแพร่ตัวบ่งชี้
pub-kind = ประเภท
pub-value = ค่า (รูปแบบใดก็ได้ ระบบจะปรับให้เป็นมาตรฐาน)
pub-role = บทบาท
pub-group = กลุ่มแบ่งปัน (สำหรับ AMBER)
pub-whole-network = — ทั้งเครือข่าย —
pub-confidence = ความเชื่อมั่น (0-100)
pub-description = รายละเอียด
pub-sign = ลงนามและเผยแพร่
pub-red = ข้อมูล TLP RED จะไม่ออกจากโหนดนี้: ให้บันทึกไว้ในคดีแทน
pub-knowledge = เผยแพร่รูปแบบหรือเทคนิค
pub-what = ประเภทความรู้
pub-what-typology = รูปแบบ (กลไกของรูปแบบการกระทำผิด)
pub-what-technique = เทคนิค (วิธีค้นหาและเก็บหลักฐาน)
pub-field-title = ชื่อเรื่อง
pub-summary = สรุป (รูปแบบ) หรือวัตถุประสงค์ (เทคนิค)
pub-stage = ขั้นตอน (รูปแบบ)
pub-steps = ขั้นตอน (เทคนิค) บรรทัดละหนึ่งขั้น
stage-recruitment = การจัดหาคน
stage-transit = การเดินทางผ่าน
stage-exploitation = การแสวงประโยชน์
stage-scam = การหลอกลวง
stage-monetisation = การแปลงเป็นเงิน

# Library
lib-typologies = รูปแบบ
lib-techniques = เทคนิค
lib-search = ค้นหาชื่อเรื่องและสรุป
