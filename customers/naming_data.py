"""Word lists for customers.naming and the abbreviation dictionary shipped with KAM.

The word lists are code (they describe how Chinese organisation names are built, 《企业名称登记管理规定》:
行政区划 + 字号 + 行业 + 组织形式, a branch named after its parent plus 分公司/分行 ...). The abbreviation
dictionary is data: migration 0003 loads ABBREVIATIONS into NameAbbreviation rows, which data stewards
edit afterwards; customers.naming.name_key reads the rows, never this list.
"""

# Organisation forms (组织形式). Matched as whole tokens, longest first, anywhere in the name, so
# "中国工商银行股份有限公司北京市分行" loses 股份有限公司 in the middle as well as at the end. 集团 is
# included: "娃哈哈集团" and "娃哈哈" name the same group in practice (the registered names of a group
# company and its listed arm then share a core; their credit codes tell them apart).
LEGAL_FORM_WORDS: tuple[str, ...] = (
    "集团股份有限公司",
    "集团有限责任公司",
    "集团有限公司",
    "股份有限责任公司",
    "股份有限公司",
    "股份合作公司",
    "有限责任公司",
    "责任有限公司",
    "控股集团",
    "集团公司",
    "股份公司",
    "有限公司",
    "总公司",
    "有限合伙",
    "普通合伙",
    "合伙企业",
    "集团",
    "公司",
)

# Branch words (分支机构). A branch is told apart from its head office by the region words next to
# these, not by the words themselves: 杭州分行 and 杭州支行 of the same bank are the same unit spelt two
# ways far more often than two units. 总行/总部/本部 mark the head office and are dropped likewise.
BRANCH_WORDS: tuple[str, ...] = (
    "中心支公司",
    "中心支行",
    "营业管理部",
    "分公司",
    "支公司",
    "子公司",
    "分行",
    "支行",
    "分理处",
    "储蓄所",
    "营业部",
    "营业厅",
    "营业所",
    "办事处",
    "代表处",
    "分院",
    "分局",
    "分中心",
    "分所",
    "分部",
    "分厂",
    "分店",
    "分社",
    "分校",
    "分会",
    "总行",
    "总部",
    "本部",
)

# A national prefix (中国/中华, approved names only) is dropped so 中国工商银行 = 工商银行 ... unless
# what is left is a bare industry word (中国银行 is not 银行).
NATIONAL_PREFIXES: tuple[str, ...] = ("中华人民共和国", "中国", "中华")

# Suffixes of administrative division names; a region word is matched with and without them
# (浙江省 / 浙江, 杭州市 / 杭州, 西湖区 / 西湖), keeping at least 2 characters (县 names like 赵县 keep their suffix).
REGION_SUFFIX_PATTERN = (
    r"(?:(?:[\u4e00-\u9fff]{1,3}族)+自治(?:区|州|县|旗)|维吾尔自治区|特别行政区|自治区|自治州|自治县|自治旗"
    r"|地区|林区|新区|省|市|区|县|旗|盟)"
)
# Province-level suffixes: a province word is dropped from the region key when a city or district is
# also named, so 浙江杭州工行 and 杭州工行 agree (a city lies in exactly one province).
PROVINCE_SUFFIXES: tuple[str, ...] = ("省", "自治区", "特别行政区")

# Industry / institution words that cannot be a trade name (字号) on their own. When the core of a name
# is made only of these, the region or national word in front of it is the trade name and stays in the
# core: 北京银行 (Bank of Beijing) is not the 北京 branch of some "银行", 中国银行 is not "银行",
# 浙江大学 is not "大学" in 浙江. Bank names (工商, 建设, 农业, 交通) are deliberately absent.
GENERIC_WORDS: tuple[str, ...] = (
    # institutions
    "银行", "商业银行", "农村商业银行", "农商银行", "城市商业银行", "村镇银行", "信用社", "农村信用社",
    "农村信用合作联社", "信用合作联社", "信用联社", "农信", "大学", "学院", "职业技术学院", "中学", "小学",
    "学校", "医院", "人民医院", "中医院", "中医医院", "妇幼保健院", "人民政府", "政府", "人民法院",
    "中级人民法院", "人民检察院", "公安局", "海关", "税务局", "财政局", "教育局", "电视台", "广播电视台",
    "日报", "报社", "图书馆", "博物馆",
    # sectors
    "电力", "供电", "电网", "电信", "移动", "联通", "通信", "邮政", "烟草", "自来水", "水务", "燃气", "热力",
    "石油", "石化", "化工", "化纤", "电子", "电器", "电气", "科技", "信息", "技术", "网络", "软件", "工业",
    "实业", "贸易", "商贸", "物流", "投资", "控股", "保险", "证券", "信托", "期货", "医药", "制药", "建筑",
    "建工", "城投", "交投", "地铁", "机场", "港务", "高速", "公路", "铁路", "旅游", "文化", "传媒", "食品",
    "饮料", "纺织", "服装", "钢铁", "汽车", "机械", "能源", "环保", "置业", "房地产", "地产", "物业",
)  # fmt: skip

# (abbreviation, full name, note). The full name is the registered name without its organisation form
# (it becomes an unsplittable word, so the region word inside 上海浦东发展银行 is not taken as a region).
# Only abbreviations that name one organisation when they stand alone as a token are shipped; an
# abbreviation is expanded only where it is a whole token (between region, branch, organisation-form
# words or the ends of the name), so 福建行政学院 keeps its 建行 and 杭州电信器材 its 电信.
# Not shipped, because the bare word names several organisations: 民生 (民生银行/民生证券/民生保险/民生药业),
# 兴业 (兴业银行/兴业证券), 中信 (中信银行/中信证券/中信集团), 光大 (光大银行/光大证券/光大集团),
# 平安 (平安银行/平安保险/平安证券), 广发 (广发银行/广发证券), 华夏 (华夏银行/华夏基金/华夏人寿), 广电.
ABBREVIATIONS: tuple[tuple[str, str, str], ...] = (
    # Large banks
    ("工行", "中国工商银行", "大型商业银行"),
    ("工商银行", "中国工商银行", "大型商业银行"),
    ("建行", "中国建设银行", "大型商业银行"),
    ("建设银行", "中国建设银行", "大型商业银行"),
    ("农行", "中国农业银行", "大型商业银行"),
    ("农业银行", "中国农业银行", "大型商业银行"),
    ("中行", "中国银行", "大型商业银行"),
    ("交行", "交通银行", "大型商业银行"),
    ("邮储", "中国邮政储蓄银行", "大型商业银行"),
    ("邮储银行", "中国邮政储蓄银行", "大型商业银行"),
    ("邮政储蓄银行", "中国邮政储蓄银行", "大型商业银行"),
    ("招行", "招商银行", "股份制银行"),
    ("浦发", "上海浦东发展银行", "股份制银行"),
    ("浦发银行", "上海浦东发展银行", "股份制银行"),
    ("民生银行", "中国民生银行", "股份制银行; bare 民生 is ambiguous (民生证券, 民生保险)"),
    ("光大银行", "中国光大银行", "股份制银行; bare 光大 is ambiguous"),
    ("广东发展银行", "广发银行", "former name of 广发银行"),
    ("国开行", "国家开发银行", "政策性银行"),
    ("国开银行", "国家开发银行", "政策性银行"),
    ("农发行", "中国农业发展银行", "政策性银行"),
    ("农业发展银行", "中国农业发展银行", "政策性银行"),
    ("进出口银行", "中国进出口银行", "政策性银行"),
    ("口行", "中国进出口银行", "政策性银行"),
    ("人民银行", "中国人民银行", "central bank"),
    ("人行", "中国人民银行", "central bank"),
    # Insurance
    ("人保", "中国人民保险", "中国人民保险集团"),
    ("国寿", "中国人寿保险", "中国人寿保险(集团)公司"),
    ("中国人寿", "中国人寿保险", "中国人寿保险(集团)公司"),
    ("太保", "中国太平洋保险", "中国太平洋保险(集团)股份有限公司"),
    # Energy, resources and utilities
    ("中石油", "中国石油天然气", "中国石油天然气集团有限公司"),
    ("中国石油", "中国石油天然气", "brand of 中国石油天然气集团; 中国石油大学 is not expanded"),
    ("中石化", "中国石油化工", "中国石油化工集团有限公司"),
    ("中国石化", "中国石油化工", "brand of 中国石油化工集团"),
    ("中海油", "中国海洋石油", "中国海洋石油集团有限公司"),
    ("国网", "国家电网", "国家电网有限公司"),
    ("国家电网公司", "国家电网", "国家电网有限公司"),
    ("南方电网", "中国南方电网", "中国南方电网有限责任公司"),
    ("南网", "中国南方电网", "中国南方电网有限责任公司"),
    ("中核", "中国核工业", "中国核工业集团有限公司"),
    ("中广核", "中国广核", "中国广核集团有限公司"),
    ("华能", "中国华能", "中国华能集团有限公司"),
    ("华电", "中国华电", "中国华电集团有限公司"),
    ("国家能源集团", "国家能源投资", "国家能源投资集团有限责任公司"),
    ("三峡集团", "中国长江三峡", "中国长江三峡集团有限公司"),
    ("中储粮", "中国储备粮管理", "中国储备粮管理集团有限公司"),
    ("中国粮油食品", "中粮", "former name of 中粮集团有限公司"),
    ("中化", "中国中化", "中国中化控股有限责任公司"),
    ("五矿", "中国五矿", "中国五矿集团有限公司"),
    ("宝武", "中国宝武钢铁", "中国宝武钢铁集团有限公司"),
    # Construction, transport, manufacturing
    ("中铁", "中国中铁", "中国中铁股份有限公司; 中铁一局 etc. are not expanded"),
    ("中铁建", "中国铁建", "中国铁建股份有限公司"),
    ("中建", "中国建筑", "中国建筑集团有限公司; 中建三局 etc. are not expanded"),
    ("中交", "中国交通建设", "中国交通建设集团有限公司"),
    ("中车", "中国中车", "中国中车集团有限公司"),
    ("中船", "中国船舶", "中国船舶集团有限公司"),
    ("航空工业", "中国航空工业", "中国航空工业集团有限公司"),
    ("中航工业", "中国航空工业", "中国航空工业集团有限公司"),
    ("中远海运", "中国远洋海运", "中国远洋海运集团有限公司"),
    ("国投", "国家开发投资", "国家开发投资集团有限公司"),
    ("国航", "中国国际航空", "中国国际航空股份有限公司"),
    ("东航", "中国东方航空", "中国东方航空集团有限公司"),
    ("南航", "中国南方航空", "中国南方航空集团有限公司 (the university is written 南京航空航天大学)"),
    ("邮政", "中国邮政", "中国邮政集团有限公司"),
    # Operators
    ("中国移动", "中国移动通信", "中国移动通信集团有限公司"),
    ("中移动", "中国移动通信", "中国移动通信集团有限公司"),
    ("移动", "中国移动通信", "中国移动通信集团有限公司 (浙江移动, 移动杭州分公司)"),
    ("中国联通", "中国联合网络通信", "中国联合网络通信集团有限公司"),
    ("联通", "中国联合网络通信", "中国联合网络通信集团有限公司"),
    ("电信", "中国电信", "中国电信集团有限公司 (浙江电信, 电信杭州分公司)"),
    ("铁塔", "中国铁塔", "中国铁塔股份有限公司"),
    ("中国广电", "中国广播电视网络", "中国广播电视网络集团有限公司"),
)
