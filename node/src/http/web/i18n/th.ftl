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
