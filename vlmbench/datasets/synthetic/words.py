"""The words of the synthetic documents: invented names and places, page labels, questions.

All names, firms and places are invented or common words. The tables of
both languages share their keys (Russian adds the patronymic), so each
document class is generated and laid out once for either language.
"""

from __future__ import annotations

# fmt: off
# --- word lists, "|"-separated to keep them compact ----------------------------------------------------
WORDS: dict[str, dict[str, list[str]]] = {
    lang: {key: value.split("|") for key, value in table.items()}
    for lang, table in {
        "en": {
            "male": "James|John|Robert|Michael|William|David|Thomas|Daniel|Mark|Paul|Andrew|Peter|"
            "George|Edward",
            "female": "Mary|Linda|Susan|Sarah|Karen|Nancy|Lisa|Emily|Helen|Laura|Anna|Grace|Alice|Julia",
            "surname": "Smith|Johnson|Brown|Miller|Davis|Wilson|Anderson|Taylor|Moore|Martin|Clark|"
            "Lewis|Walker|Hall|Young|King|Wright|Baker|Turner|Parker",
            "city": "Springfield|Riverton|Lakewood|Fairview|Greenville|Bristol|Madison|Salem|Franklin|"
            "Ashland|Oxford|Milton|Dover",
            "street": "Oak Street|Maple Avenue|Cedar Lane|Pine Road|Elm Street|Park Avenue|Hill Road|"
            "Lake Drive|Church Street|Mill Lane|River Road|High Street",
            "firm": "Northwind|Bluefield|Summit|Redwood|Silverline|Brightstone|Harbor|Crescent|"
            "Evergreen|Ironbridge|Meadow|Pioneer",
            "firm_kind": "Trading Ltd|Supplies Inc.|Logistics LLC|Systems Ltd|Consulting LLC|"
            "Industries Inc.",
            "goods": "Office chair|Desk lamp|Printer paper A4|Laptop stand|Wireless mouse|USB-C cable|"
            "Consulting (hour)|Software license|Monitor 24 inch|Keyboard|Toner cartridge|Delivery|"
            "Installation work|Filing cabinet|Whiteboard",
            "food": "Milk 1 l|White bread|Eggs 10 pcs|Butter|Cheddar cheese|Apples 1 kg|Bananas|"
            "Coffee beans|Green tea|Orange juice|Rice 1 kg|Pasta|Tomatoes|Chicken breast|Yogurt|"
            "Dark chocolate|Still water",
            "store": "FreshMart|Green Basket|Corner Grocery|Daily Foods|City Market|Sunny Store",
        },
        "ru": {
            "male": "Александр|Дмитрий|Максим|Сергей|Андрей|Алексей|Иван|Михаил|Николай|Павел|Владимир|"
            "Роман|Олег",
            "female": "Анна|Мария|Елена|Ольга|Наталья|Татьяна|Ирина|Светлана|Екатерина|Юлия|Дарья|"
            "Марина|Вера",
            # male form; the female form adds "а" (Иванов -> Иванова), true of every name here
            "surname": "Иванов|Петров|Смирнов|Кузнецов|Попов|Соколов|Лебедев|Козлов|Новиков|Морозов|"
            "Волков|Васильев|Зайцев|Павлов|Семенов|Голубев|Богданов|Федоров|Михайлов|Тарасов|Белов|"
            "Орлов|Макаров",
            "patronymic": "Александров|Дмитриев|Сергеев|Андреев|Иванов|Михайлов|Николаев|Петров|"
            "Владимиров|Олегов",
            "city": "Москва|Казань|Самара|Пермь|Омск|Томск|Воронеж|Тверь|Ярославль|Калуга|Рязань|Тула|"
            "Смоленск",
            "street": "ул. Ленина|ул. Садовая|ул. Гагарина|пр. Мира|ул. Победы|ул. Советская|"
            "ул. Молодежная|ул. Школьная|ул. Лесная|ул. Набережная|ул. Центральная|ул. Пушкина",
            "firm": "Вектор|Альянс|Северный путь|Техносфера|Горизонт|Меридиан|Стройресурс|Партнер|"
            "Континент|Импульс|Орион|Спектр",
            "firm_kind": "ООО|АО",
            "goods": "Кресло офисное|Лампа настольная|Бумага офисная А4|Подставка для ноутбука|"
            "Мышь беспроводная|Кабель USB-C|Консультация (час)|Лицензия на ПО|Монитор 24 дюйма|"
            "Клавиатура|Картридж для принтера|Доставка|Монтажные работы|Шкаф для документов|"
            "Маркерная доска",
            "food": "Молоко 1 л|Хлеб ржаной|Яйца 10 шт|Масло сливочное|Сыр|Яблоки 1 кг|Бананы|"
            "Кофе в зернах|Чай черный|Сок апельсиновый|Рис 1 кг|Макароны|Помидоры|Куриное филе|Йогурт|"
            "Шоколад|Вода",
            "store": "Березка|Свежий день|Семейный|Колосок|Удача|Центральный",
        },
    }.items()
}

# --- labels printed on the page, and the questions asked about each field -------------------------------
LABELS: dict[str, dict[str, str]] = {
    "en": {
        "invoice": "INVOICE", "invoice_number": "Invoice No.:", "date": "Date:", "due_date": "Due date:",
        "seller": "Seller:", "buyer": "Buyer:", "address": "Address:", "no": "No.", "item": "Description",
        "qty": "Qty", "price": "Unit price", "amount": "Amount", "subtotal": "Subtotal:", "vat": "VAT 20%:",
        "total": "Total due, USD:", "invoice_note": "Please pay by bank transfer before the due date.",
        "country": "REPUBLIC OF SPECIMENIA", "passport": "IDENTITY CARD",
        "specimen": "SPECIMEN - NOT A VALID DOCUMENT", "surname": "Surname:", "given_names": "Given names:",
        "sex": "Sex:", "date_of_birth": "Date of birth:", "place_of_birth": "Place of birth:",
        "document_number": "Document No.:", "date_of_issue": "Date of issue:",
        "date_of_expiry": "Date of expiry:", "authority": "Authority:",
        "fictitious": "All data on this form is fictitious.", "receipt_number": "Receipt No.:",
        "time": "Time:", "cashier": "Cashier:", "receipt_total": "TOTAL:", "payment_method": "Payment:",
        "card": "Card", "cash": "Cash", "thanks": "Thank you for shopping!",
    },
    "ru": {
        "invoice": "СЧЕТ НА ОПЛАТУ", "invoice_number": "Номер счета:", "date": "Дата:",
        "due_date": "Оплатить до:", "seller": "Поставщик:", "buyer": "Покупатель:", "address": "Адрес:",
        "no": "№", "item": "Наименование", "qty": "Кол-во", "price": "Цена", "amount": "Сумма",
        "subtotal": "Итого без НДС:", "vat": "НДС 20%:", "total": "Всего к оплате, руб.:",
        "invoice_note": "Оплата банковским переводом до указанной даты.", "country": "РЕСПУБЛИКА ОБРАЗЦОВ",
        "passport": "УДОСТОВЕРЕНИЕ ЛИЧНОСТИ", "specimen": "ОБРАЗЕЦ - НЕДЕЙСТВИТЕЛЕН", "surname": "Фамилия:",
        "given_names": "Имя:", "patronymic": "Отчество:", "sex": "Пол:", "date_of_birth": "Дата рождения:",
        "place_of_birth": "Место рождения:", "document_number": "Номер документа:",
        "date_of_issue": "Дата выдачи:", "date_of_expiry": "Действителен до:", "authority": "Кем выдан:",
        "fictitious": "Все данные вымышлены.", "receipt_number": "Чек №:", "time": "Время:",
        "cashier": "Кассир:", "receipt_total": "ИТОГО:", "payment_method": "Оплата:", "card": "Картой",
        "cash": "Наличными", "thanks": "Спасибо за покупку!",
    },
}

QUESTIONS: dict[str, dict[str, str]] = {
    "en": {
        "full_text": "Transcribe all text on the document.",
        "fields_json": "Extract the fields of this document as a JSON object with the keys: {keys}.",
        "invoice_number": "What is the invoice number?", "date": "What is the date of the document?",
        "due_date": "What is the payment due date?", "seller": "What is the name of the seller?",
        "seller_address": "What is the seller's address?", "buyer": "What is the name of the buyer?",
        "buyer_address": "What is the buyer's address?", "subtotal": "What is the amount before VAT?",
        "vat": "What is the VAT amount?", "total": "What is the total amount?",
        "surname": "What is the surname of the holder?",
        "given_names": "What are the given names of the holder?", "sex": "What is the sex of the holder?",
        "date_of_birth": "What is the date of birth?", "place_of_birth": "What is the place of birth?",
        "document_number": "What is the document number?", "date_of_issue": "What is the date of issue?",
        "date_of_expiry": "What is the date of expiry?", "authority": "Which authority issued the document?",
        "store": "What is the name of the store?", "store_address": "What is the address of the store?",
        "receipt_number": "What is the receipt number?", "time": "What time is printed on the receipt?",
        "cashier": "What is the name of the cashier?", "payment_method": "How was the purchase paid?",
    },
    "ru": {
        "full_text": "Перепишите весь текст документа.",
        "fields_json": "Извлеките поля документа в виде JSON-объекта с ключами: {keys}.",
        "invoice_number": "Какой номер счета?", "date": "Какая дата указана в документе?",
        "due_date": "До какой даты нужно оплатить счет?", "seller": "Как называется поставщик?",
        "seller_address": "Какой адрес поставщика?", "buyer": "Как называется покупатель?",
        "buyer_address": "Какой адрес покупателя?", "subtotal": "Какова сумма без НДС?",
        "vat": "Какова сумма НДС?", "total": "Какова итоговая сумма?",
        "surname": "Какая фамилия у владельца документа?", "given_names": "Какое имя у владельца документа?",
        "patronymic": "Какое отчество у владельца документа?", "sex": "Какой пол указан в документе?",
        "date_of_birth": "Какая дата рождения указана в документе?",
        "place_of_birth": "Какое место рождения указано в документе?",
        "document_number": "Какой номер документа?", "date_of_issue": "Какая дата выдачи документа?",
        "date_of_expiry": "До какой даты действителен документ?", "authority": "Кем выдан документ?",
        "store": "Как называется магазин?", "store_address": "Какой адрес магазина?",
        "receipt_number": "Какой номер чека?", "time": "Какое время указано в чеке?",
        "cashier": "Как зовут кассира?", "payment_method": "Каким способом оплачена покупка?",
    },
}
# fmt: on
