"""The default petition taxonomy: the national top level, each with a line a resident can understand."""

CATEGORIES = [
    (
        "urban-rural-construction",
        "城乡建设",
        "Urban and rural construction",
        "拆迁、物业、小区设施、道路和市政建设",
        "Demolition, property management, estate facilities, roads",
    ),
    (
        "housing",
        "住房保障",
        "Housing",
        "公租房、廉租房、房屋产权和办证",
        "Public rental housing, ownership and property certificates",
    ),
    (
        "labour-social-security",
        "劳动和社会保障",
        "Labour and social security",
        "拖欠工资、劳动合同、社保和养老金",
        "Unpaid wages, labour contracts, social insurance, pensions",
    ),
    (
        "natural-resources",
        "自然资源",
        "Natural resources",
        "土地、宅基地、林地和矿产",
        "Land, homesteads, forest land, minerals",
    ),
    ("environment", "生态环境", "Environment", "噪音、污水、废气和垃圾", "Noise, sewage, fumes and rubbish"),
    (
        "market-regulation",
        "市场监管",
        "Market regulation",
        "商品质量、消费纠纷和食品安全",
        "Product quality, consumer disputes, food safety",
    ),
    (
        "public-security",
        "公共安全",
        "Public security",
        "治安、消防和交通安全",
        "Public order, fire safety, road safety",
    ),
    (
        "agriculture",
        "农业农村",
        "Agriculture and villages",
        "农村土地承包、补贴和村务",
        "Village land contracts, subsidies, village affairs",
    ),
    ("education", "教育", "Education", "入学、学校收费和校园安全", "School places, school fees, school safety"),
    (
        "health",
        "卫生健康",
        "Health",
        "看病就医、医保报销和医疗纠纷",
        "Medical care, insurance claims, medical disputes",
    ),
    (
        "civil-affairs",
        "民政",
        "Civil affairs",
        "低保、养老服务、残疾人和社会救助",
        "Minimum living allowance, elderly care, disability, relief",
    ),
    ("transport", "交通运输", "Transport", "公交线路、出租车和道路运输", "Bus routes, taxis, road transport"),
    ("other", "其他", "Other", "以上都不是的其他事项", "Anything not listed above"),
]


def categories_install(category_model) -> None:
    """Create or refresh the default categories (used by the migration and by test set-up)."""
    for position, (code, name, name_en, description, description_en) in enumerate(CATEGORIES, start=1):
        category_model.objects.update_or_create(
            code=code,
            defaults={
                "name": name,
                "name_en": name_en,
                "description": description,
                "description_en": description_en,
                "position": position,
            },
        )
