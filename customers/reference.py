"""Reference data shipped with KAM (loaded by migrations; editable rows afterwards)."""

# GB/T 2260 provincial-level divisions: code, name, English name.
PROVINCES = [
    ("110000", "北京市", "Beijing"),
    ("120000", "天津市", "Tianjin"),
    ("130000", "河北省", "Hebei"),
    ("140000", "山西省", "Shanxi"),
    ("150000", "内蒙古自治区", "Inner Mongolia"),
    ("210000", "辽宁省", "Liaoning"),
    ("220000", "吉林省", "Jilin"),
    ("230000", "黑龙江省", "Heilongjiang"),
    ("310000", "上海市", "Shanghai"),
    ("320000", "江苏省", "Jiangsu"),
    ("330000", "浙江省", "Zhejiang"),
    ("340000", "安徽省", "Anhui"),
    ("350000", "福建省", "Fujian"),
    ("360000", "江西省", "Jiangxi"),
    ("370000", "山东省", "Shandong"),
    ("410000", "河南省", "Henan"),
    ("420000", "湖北省", "Hubei"),
    ("430000", "湖南省", "Hunan"),
    ("440000", "广东省", "Guangdong"),
    ("450000", "广西壮族自治区", "Guangxi"),
    ("460000", "海南省", "Hainan"),
    ("500000", "重庆市", "Chongqing"),
    ("510000", "四川省", "Sichuan"),
    ("520000", "贵州省", "Guizhou"),
    ("530000", "云南省", "Yunnan"),
    ("540000", "西藏自治区", "Tibet"),
    ("610000", "陕西省", "Shaanxi"),
    ("620000", "甘肃省", "Gansu"),
    ("630000", "青海省", "Qinghai"),
    ("640000", "宁夏回族自治区", "Ningxia"),
    ("650000", "新疆维吾尔自治区", "Xinjiang"),
    ("710000", "台湾省", "Taiwan"),
    ("810000", "香港特别行政区", "Hong Kong"),
    ("820000", "澳门特别行政区", "Macao"),
]

# The demo province (DOMAIN.md §6.3): Zhejiang's 11 prefecture cities and their districts.
ZHEJIANG = {
    ("330100", "杭州市", "Hangzhou"): [
        ("330102", "上城区"),
        ("330105", "拱墅区"),
        ("330106", "西湖区"),
        ("330108", "滨江区"),
        ("330109", "萧山区"),
        ("330110", "余杭区"),
        ("330111", "富阳区"),
        ("330112", "临安区"),
        ("330113", "临平区"),
        ("330114", "钱塘区"),
        ("330122", "桐庐县"),
        ("330127", "淳安县"),
        ("330182", "建德市"),
    ],
    ("330200", "宁波市", "Ningbo"): [
        ("330203", "海曙区"),
        ("330205", "江北区"),
        ("330206", "北仑区"),
        ("330211", "镇海区"),
        ("330212", "鄞州区"),
        ("330213", "奉化区"),
        ("330225", "象山县"),
        ("330226", "宁海县"),
        ("330281", "余姚市"),
        ("330282", "慈溪市"),
    ],
    ("330300", "温州市", "Wenzhou"): [
        ("330302", "鹿城区"),
        ("330303", "龙湾区"),
        ("330304", "瓯海区"),
        ("330305", "洞头区"),
        ("330324", "永嘉县"),
        ("330326", "平阳县"),
        ("330327", "苍南县"),
        ("330328", "文成县"),
        ("330329", "泰顺县"),
        ("330381", "瑞安市"),
        ("330382", "乐清市"),
        ("330383", "龙港市"),
    ],
    ("330400", "嘉兴市", "Jiaxing"): [
        ("330402", "南湖区"),
        ("330411", "秀洲区"),
        ("330421", "嘉善县"),
        ("330424", "海盐县"),
        ("330481", "海宁市"),
        ("330482", "平湖市"),
        ("330483", "桐乡市"),
    ],
    ("330500", "湖州市", "Huzhou"): [
        ("330502", "吴兴区"),
        ("330503", "南浔区"),
        ("330521", "德清县"),
        ("330522", "长兴县"),
        ("330523", "安吉县"),
    ],
    ("330600", "绍兴市", "Shaoxing"): [
        ("330602", "越城区"),
        ("330603", "柯桥区"),
        ("330604", "上虞区"),
        ("330624", "新昌县"),
        ("330681", "诸暨市"),
        ("330683", "嵊州市"),
    ],
    ("330700", "金华市", "Jinhua"): [
        ("330702", "婺城区"),
        ("330703", "金东区"),
        ("330723", "武义县"),
        ("330726", "浦江县"),
        ("330727", "磐安县"),
        ("330781", "兰溪市"),
        ("330782", "义乌市"),
        ("330783", "东阳市"),
        ("330784", "永康市"),
    ],
    ("330800", "衢州市", "Quzhou"): [
        ("330802", "柯城区"),
        ("330803", "衢江区"),
        ("330822", "常山县"),
        ("330824", "开化县"),
        ("330825", "龙游县"),
        ("330881", "江山市"),
    ],
    ("330900", "舟山市", "Zhoushan"): [
        ("330902", "定海区"),
        ("330903", "普陀区"),
        ("330921", "岱山县"),
        ("330922", "嵊泗县"),
    ],
    ("331000", "台州市", "Taizhou"): [
        ("331002", "椒江区"),
        ("331003", "黄岩区"),
        ("331004", "路桥区"),
        ("331022", "三门县"),
        ("331023", "天台县"),
        ("331024", "仙居县"),
        ("331081", "温岭市"),
        ("331082", "临海市"),
        ("331083", "玉环市"),
    ],
    ("331100", "丽水市", "Lishui"): [
        ("331102", "莲都区"),
        ("331121", "青田县"),
        ("331122", "缙云县"),
        ("331123", "遂昌县"),
        ("331124", "松阳县"),
        ("331125", "云和县"),
        ("331126", "庆元县"),
        ("331127", "景宁畲族自治县"),
        ("331181", "龙泉市"),
    ],
}

# GB/T 4754-2017 sections: code, name, English name, importance (0-100, value scoring input).
INDUSTRIES = [
    ("A", "农、林、牧、渔业", "Agriculture, forestry, animal husbandry and fishery", 40),
    ("B", "采矿业", "Mining", 50),
    ("C", "制造业", "Manufacturing", 60),
    ("D", "电力、热力、燃气及水生产和供应业", "Electricity, heat, gas and water supply", 70),
    ("E", "建筑业", "Construction", 50),
    ("F", "批发和零售业", "Wholesale and retail trade", 50),
    ("G", "交通运输、仓储和邮政业", "Transport, storage and postal services", 65),
    ("H", "住宿和餐饮业", "Accommodation and catering", 40),
    ("I", "信息传输、软件和信息技术服务业", "Information transmission, software and IT services", 75),
    ("J", "金融业", "Finance", 90),
    ("K", "房地产业", "Real estate", 50),
    ("L", "租赁和商务服务业", "Leasing and business services", 50),
    ("M", "科学研究和技术服务业", "Scientific research and technical services", 60),
    ("N", "水利、环境和公共设施管理业", "Water, environment and public facilities management", 55),
    ("O", "居民服务、修理和其他服务业", "Resident services, repair and other services", 40),
    ("P", "教育", "Education", 80),
    ("Q", "卫生和社会工作", "Health and social work", 80),
    ("R", "文化、体育和娱乐业", "Culture, sports and entertainment", 50),
    ("S", "公共管理、社会保障和社会组织", "Public administration, social security and social organisations", 90),
    ("T", "国际组织", "International organisations", 60),
]

# Tier service norms (DOMAIN.md §1.2): code, name, English name, visit cycle in days.
TIER_LEVELS = [
    ("A1", "高值集团", "High value", 30),
    ("A2", "战略集团", "Strategic", 30),
    ("B1", "标杆集团", "Benchmark", 90),
    ("B2", "潜力集团", "Potential", 90),
    ("C", "一般集团", "Standard", 180),
    ("D", "小微/聚类", "Small / clustered", 365),
]


def load(apps, schema_editor):
    Region = apps.get_model("customers", "Region")
    Industry = apps.get_model("customers", "Industry")
    TierLevel = apps.get_model("customers", "TierLevel")
    for code, name, name_en in PROVINCES:
        Region.objects.update_or_create(code=code, defaults={"name": name, "name_en": name_en, "level": 1})
    for (city_code, city, city_en), districts in ZHEJIANG.items():
        Region.objects.update_or_create(
            code=city_code, defaults={"name": city, "name_en": city_en, "level": 2, "parent_id": "330000"}
        )
        for code, name in districts:
            Region.objects.update_or_create(code=code, defaults={"name": name, "level": 3, "parent_id": city_code})
    for code, name, name_en, importance in INDUSTRIES:
        Industry.objects.update_or_create(
            code=code, defaults={"name": name, "name_en": name_en, "importance": importance}
        )
    for order, (code, name, name_en, days) in enumerate(TIER_LEVELS):
        TierLevel.objects.update_or_create(
            code=code, defaults={"name": name, "name_en": name_en, "visit_cycle_days": days, "sort_order": order}
        )


# Tier bands (DOMAIN.md §1.2): tier, min monthly revenue, alt members, alt revenue, strategic only,
# expected annual retention (LTV).
TIER_BANDS = [
    ("A1", 100000, 1000, 50000, False, "0.970"),
    ("A2", 30000, None, None, True, "0.970"),
    ("B1", 30000, None, None, False, "0.930"),
    ("B2", 10000, None, None, False, "0.900"),
    ("C", 2000, None, None, False, "0.850"),
    ("D", 0, None, None, False, "0.750"),
]

# Value score factors and weights (DOMAIN.md §1.2 rule 5): code, name, English name, weight, description.
VALUE_FACTORS = [
    ("revenue", "收入贡献", "Revenue", 40, "近 N 个账期月均收入在全部客户中的百分位"),
    ("members", "成员规模", "Members", 15, "在网集团成员数的百分位"),
    ("breadth", "产品宽度", "Product breadth", 15, "近 N 个账期有收入的业务类别数"),
    ("growth", "收入增长", "Growth", 10, "近 N 个账期与前 N 个账期月均收入之比"),
    ("industry", "行业重要性", "Industry importance", 10, "行业（GB/T 4754 门类）的重要性评分"),
    ("tenure", "合作年限", "Tenure", 5, "入网年限，满 10 年计满分"),
    ("payment", "缴费表现", "Payment behaviour", 5, "无欠费数据时按中性计 50%"),
]


def load_segmentation_defaults(apps, schema_editor):
    TierPolicy = apps.get_model("customers", "TierPolicy")
    TierBand = apps.get_model("customers", "TierBand")
    ValueFactor = apps.get_model("customers", "ValueFactor")
    if not TierPolicy.objects.exists():
        TierPolicy.objects.create()
    for tier, revenue, members, alt_revenue, strategic, retention in TIER_BANDS:
        TierBand.objects.get_or_create(
            tier=tier,
            defaults={"min_revenue": revenue, "min_members": members, "alt_min_revenue": alt_revenue,
                      "strategic_only": strategic, "annual_retention": retention},
        )  # fmt: skip
    for code, name, name_en, weight, description in VALUE_FACTORS:
        ValueFactor.objects.get_or_create(
            code=code, defaults={"name": name, "name_en": name_en, "weight": weight, "description": description}
        )
